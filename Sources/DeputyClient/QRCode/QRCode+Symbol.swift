extension QRCode {
    /// Which modules of a version are function patterns (finders, timing, alignment,
    /// format and version areas), and the order in which the others take data bits.
    struct Layout {
        let size: Int
        /// Function modules: never data, never masked.
        var reserved: [[Bool]]
        /// The data modules, in the order codeword bits fill them.
        var dataOrder: [(row: Int, column: Int)] = []

        var dataModuleCount: Int { dataOrder.count }

        init(version: Int) {
            size = 17 + 4 * version
            reserved = Array(repeating: Array(repeating: false, count: size), count: size)
            // Finders with their separators, the format areas beside them, the timing lines.
            for (row, column) in [(0, 0), (0, size - 7), (size - 7, 0)] {
                mark(rows: row - 1...row + 7, columns: column - 1...column + 7)
            }
            mark(rows: 0...8, columns: 8...8)
            mark(rows: 8...8, columns: 0...8)
            mark(rows: 8...8, columns: size - 8...size - 1)
            mark(rows: size - 8...size - 1, columns: 8...8)
            mark(rows: 6...6, columns: 0...size - 1)
            mark(rows: 0...size - 1, columns: 6...6)
            for (row, column) in QRCode.alignmentCentres(version: version) {
                mark(rows: row - 2...row + 2, columns: column - 2...column + 2)
            }
            if version >= 7 {
                mark(rows: 0...5, columns: size - 11...size - 9)
                mark(rows: size - 11...size - 9, columns: 0...5)
            }
            // Two columns at a time from the right, upwards then downwards, skipping the
            // vertical timing line.
            var right = size - 1
            var upwards = true
            while right > 0 {
                if right == 6 { right -= 1 }
                for step in 0..<size {
                    let row = upwards ? size - 1 - step : step
                    for column in [right, right - 1] where !reserved[row][column] {
                        dataOrder.append((row, column))
                    }
                }
                upwards.toggle()
                right -= 2
            }
        }

        private mutating func mark(rows: ClosedRange<Int>, columns: ClosedRange<Int>) {
            for row in rows where row >= 0 && row < size {
                for column in columns where column >= 0 && column < size { reserved[row][column] = true }
            }
        }
    }

    /// Alignment pattern centres at versions 2 to 10 (ISO/IEC 18004 Annex E), except the
    /// three that would overlap the finders.
    static func alignmentCentres(version: Int) -> [(Int, Int)] {
        let table: [[Int]] = [
            [], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
        ]
        let positions = table[version]
        let last = positions.last ?? 0
        var centres: [(Int, Int)] = []
        for row in positions {
            for column in positions {
                let nearFinder = (row == 6 && column == 6) || (row == 6 && column == last) || (row == last && column == 6)
                if !nearFinder { centres.append((row, column)) }
            }
        }
        return centres
    }

    /// A symbol being built: function patterns drawn, data placed, not yet masked.
    struct Symbol {
        let version: Int
        let layout: Layout
        var modules: [[Bool]]

        init(version: Int) {
            self.version = version
            layout = Layout(version: version)
            modules = Array(repeating: Array(repeating: false, count: layout.size), count: layout.size)
            let size = layout.size
            for (row, column) in [(0, 0), (0, size - 7), (size - 7, 0)] {
                for dy in 0..<7 {
                    for dx in 0..<7 {
                        let ring = max(abs(dy - 3), abs(dx - 3))
                        modules[row + dy][column + dx] = ring != 2
                    }
                }
            }
            for index in 8..<size - 8 {
                modules[6][index] = index % 2 == 0
                modules[index][6] = index % 2 == 0
            }
            for (row, column) in QRCode.alignmentCentres(version: version) {
                for dy in -2...2 {
                    for dx in -2...2 { modules[row + dy][column + dx] = max(abs(dy), abs(dx)) != 1 }
                }
            }
            // The module that is always dark, beside the lower left finder.
            modules[size - 8][8] = true
            if version >= 7 {
                let bits = QRCode.versionBits(version)
                for index in 0..<18 {
                    let dark = (bits >> index) & 1 == 1
                    modules[index / 3][size - 11 + index % 3] = dark
                    modules[size - 11 + index % 3][index / 3] = dark
                }
            }
        }

        /// Fills the data modules with `codewords`, most significant bit first; modules
        /// left over (the remainder bits) stay light.
        mutating func place(_ codewords: [UInt8]) {
            for (index, position) in layout.dataOrder.enumerated() where index / 8 < codewords.count {
                modules[position.row][position.column] = (codewords[index / 8] >> UInt8(7 - index % 8)) & 1 == 1
            }
        }

        /// The modules with mask `mask` applied to the data and the format information
        /// for level M and that mask written.
        func masked(_ mask: Int) -> [[Bool]] {
            var result = modules
            for position in layout.dataOrder where QRCode.maskFlips(mask, row: position.row, column: position.column) {
                result[position.row][position.column].toggle()
            }
            let size = layout.size
            let bits = QRCode.formatBits(mask: mask)
            // Bit 14 is the most significant. One copy around the upper left finder...
            for index in 0..<15 {
                let dark = (bits >> index) & 1 == 1
                switch index {
                case 0..<6: result[index][8] = dark
                case 6: result[7][8] = dark
                case 7: result[8][8] = dark
                case 8: result[8][7] = dark
                default: result[8][14 - index] = dark
                }
                // ...and one split between the other two.
                if index < 8 {
                    result[8][size - 1 - index] = dark
                } else {
                    result[size - 15 + index][8] = dark
                }
            }
            return result
        }
    }

    /// Whether mask `mask` flips the module at `row`, `column` (ISO/IEC 18004 table 10).
    static func maskFlips(_ mask: Int, row: Int, column: Int) -> Bool {
        switch mask {
        case 0: (row + column) % 2 == 0
        case 1: row % 2 == 0
        case 2: column % 3 == 0
        case 3: (row + column) % 3 == 0
        case 4: (row / 2 + column / 3) % 2 == 0
        case 5: (row * column) % 2 + (row * column) % 3 == 0
        case 6: ((row * column) % 2 + (row * column) % 3) % 2 == 0
        default: ((row + column) % 2 + (row * column) % 3) % 2 == 0
        }
    }

    /// The 15 format bits for level M (`00`) and `mask`: a BCH(15,5) code, XORed with
    /// 101010000010010 so that they are never all light.
    static func formatBits(mask: Int) -> Int {
        let data = (0b00 << 3) | mask
        var remainder = data << 10
        for shift in stride(from: 14, through: 10, by: -1) where (remainder >> shift) & 1 == 1 {
            remainder ^= 0x537 << (shift - 10)
        }
        return ((data << 10) | remainder) ^ 0x5412
    }

    /// The 18 version bits (versions 7 and up): a BCH(18,6) code.
    static func versionBits(_ version: Int) -> Int {
        var remainder = version << 12
        for shift in stride(from: 17, through: 12, by: -1) where (remainder >> shift) & 1 == 1 {
            remainder ^= 0x1F25 << (shift - 12)
        }
        return (version << 12) | remainder
    }
}
