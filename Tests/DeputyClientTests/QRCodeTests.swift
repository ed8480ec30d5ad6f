@testable import DeputyClient
import Foundation
import Testing

/// The QR code `deputy mfa enroll` draws: checked against the standard's worked example and
/// tables, and read back by an independent decoder (ZBar's `zbarimg`).
@Suite("QR codes")
struct QRCodeTests {
    static let uri = "otpauth://totp/Example%20Org:alice@example.test?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Org&algorithm=SHA1&digits=6&period=30"

    /// The modules as a plain PBM image, `scale` pixels a module, with a four-module quiet
    /// zone: what `zbarimg` reads.
    static func pbm(_ modules: [[Bool]], scale: Int = 4) -> String {
        let quiet = 4
        let side = (modules.count + 2 * quiet) * scale
        var text = "P1\n\(side) \(side)\n"
        for y in 0..<side {
            var row = ""
            for x in 0..<side {
                let r = y / scale - quiet, c = x / scale - quiet
                row += r >= 0 && r < modules.count && c >= 0 && c < modules.count && modules[r][c] ? "1 " : "0 "
            }
            text += row + "\n"
        }
        return text
    }

    /// What `zbarimg` reads from the modules.
    static func decode(_ modules: [[Bool]]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qr-\(UUID().uuidString).pbm")
        try pbm(modules).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "zbarimg (Debian's zbar-tools) read nothing")
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    @Test("the Reed-Solomon codewords of the standard's worked example (01234567, version 1-M)")
    func workedExample() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ecc = QRCode.ReedSolomon.remainder(data, generator: QRCode.ReedSolomon.generator(degree: 10))
        #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    @Test("format bits for level M and each mask, as the standard's table gives them")
    func formatBits() {
        let table = [
            0b101010000010010, 0b101000100100101, 0b101111001111100, 0b101101101001011,
            0b100010111111001, 0b100000011001110, 0b100111110010111, 0b100101010100000,
        ]
        #expect((0..<8).map(QRCode.formatBits) == table)
        // Version 7's version information (ISO/IEC 18004 Annex D).
        #expect(QRCode.versionBits(7) == 0b000111110010010100)
    }

    @Test("an otpauth URI reads back the same, with the mask the penalty chose and with every other")
    func readsBack() throws {
        let chosen = try #require(QRCode(text: Self.uri))
        #expect(chosen.version == 8 && chosen.size == 49)
        #expect(try Self.decode(chosen.modules) == Self.uri)
        for mask in 0..<8 {
            let code = try #require(QRCode(bytes: Array(Self.uri.utf8), mask: mask))
            #expect(try Self.decode(code.modules) == Self.uri, "mask \(mask)")
        }
    }

    @Test("every length from 1 to the maximum byte count reads back, in each version's first and last size")
    func lengths() throws {
        // Each version's capacity at level M in byte mode, from the standard's table 7.
        let capacities = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213]
        for (index, capacity) in capacities.enumerated() {
            let smallest = index == 0 ? 1 : capacities[index - 1] + 1
            for length in [smallest, capacity] {
                let text = String((0..<length).map { "abcdefghijklmnopqrstuvwxyz0123456789"[$0 % 36] })
                let code = try #require(QRCode(text: text), "length \(length)")
                #expect(code.version == index + 1, "length \(length)")
                #expect(try Self.decode(code.modules) == text, "length \(length)")
            }
        }
        #expect(QRCode(text: String(repeating: "x", count: QRCode.maximumLength + 1)) == nil)
    }

    @Test("the terminal text draws the modules two rows a line, inside the quiet zone")
    func terminalText() throws {
        let code = try #require(QRCode(text: "hello"))
        let lines = code.halfBlockLines()
        #expect(lines.count == (code.size + 8 + 1) / 2)
        #expect(lines.allSatisfy { $0.count == code.size + 8 })
        // Reading the half blocks back gives the modules.
        var modules = [[Bool]](repeating: [Bool](repeating: false, count: code.size + 8), count: lines.count * 2)
        for (row, line) in lines.enumerated() {
            for (column, character) in line.enumerated() {
                modules[2 * row][column] = character == "█" || character == "▀"
                modules[2 * row + 1][column] = character == "█" || character == "▄"
            }
        }
        let inner = (4..<(4 + code.size)).map { Array(modules[$0][4..<(4 + code.size)]) }
        #expect(inner == code.modules)
        #expect(modules.prefix(4).allSatisfy { !$0.contains(true) })
    }
}

extension String {
    fileprivate subscript(_ index: Int) -> Character { self[self.index(startIndex, offsetBy: index)] }
}
