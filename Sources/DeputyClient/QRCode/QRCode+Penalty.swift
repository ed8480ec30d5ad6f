extension QRCode {
    /// The standard's penalty for a masked symbol: the encoder picks the lowest.
    enum Penalty {
        static func score(_ modules: [[Bool]]) -> Int {
            let size = modules.count
            var score = 0
            let columns = (0..<size).map { column in modules.map { $0[column] } }
            for line in modules + columns {
                // Runs of five or more of one colour, and finder-like 1:1:3:1:1 patterns
                // with four light modules on one side.
                var run = 1
                for index in 1...size {
                    if index < size, line[index] == line[index - 1] {
                        run += 1
                    } else {
                        if run >= 5 { score += run - 2 }
                        run = 1
                    }
                }
                let pattern: [Bool] = [true, false, true, true, true, false, true]
                let light = [Bool](repeating: false, count: 4)
                for start in 0...(size - 7) where Array(line[start..<start + 7]) == pattern {
                    let before = start >= 4 ? Array(line[start - 4..<start]) == light : start == 0 || !line[0..<start].contains(true)
                    let afterEnd = start + 7
                    let after = afterEnd + 4 <= size ? Array(line[afterEnd..<afterEnd + 4]) == light : !line[afterEnd...].contains(true)
                    if before || after { score += 40 }
                }
            }
            var dark = 0
            for row in 0..<size {
                for column in 0..<size {
                    if modules[row][column] { dark += 1 }
                    if row + 1 < size, column + 1 < size {
                        let colour = modules[row][column]
                        if modules[row][column + 1] == colour, modules[row + 1][column] == colour, modules[row + 1][column + 1] == colour {
                            score += 3
                        }
                    }
                }
            }
            // Ten points for each 5% the dark share strays from half.
            let deviation = abs(dark * 20 - size * size * 10)
            score += deviation / (size * size) * 10
            return score
        }
    }
}
