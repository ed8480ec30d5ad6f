extension QRCode {
    /// The code as text for a terminal, two module rows to a line with half blocks: `▀`
    /// dark above, `▄` dark below, `█` both, a space neither; with the standard's four
    /// light modules of quiet zone around it.
    ///
    /// Dark modules are drawn: the terminal must show the light ones light, so print it
    /// black on white where the terminal allows colours.
    public func halfBlockLines(quietZone: Int = 4) -> [String] {
        let side = size + 2 * quietZone
        func dark(_ row: Int, _ column: Int) -> Bool {
            let r = row - quietZone, c = column - quietZone
            return r >= 0 && r < size && c >= 0 && c < size && modules[r][c]
        }
        var lines: [String] = []
        for row in stride(from: 0, to: side, by: 2) {
            var line = ""
            for column in 0..<side {
                switch (dark(row, column), dark(row + 1, column)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(line)
        }
        return lines
    }
}
