import DeputyClient
import DeputyCore
import Foundation
import Testing

/// `deputy mfa` against a real daemon.
@Suite("deputy mfa")
struct MFACLITests {
    @Test("enroll prints the otpauth URI and the recovery codes; confirm takes a code; status shows the factor")
    func enrolConfirmStatus() async throws {
        let cli = try await CLIHarness.start()
        #expect(try await cli.run(["mfa", "status", "-o", "plain"]).output == "login=admin@example.test factor=none recovery=0 required=no\n")
        let enrolled = try await cli.run(["mfa", "enroll", "-o", "plain"])
        #expect(enrolled.status == 0, "\(enrolled.error)")
        let lines = enrolled.output.split(separator: "\n").map(String.init)
        let fields = try #require(lines.first).split(separator: " ").map(String.init)
        let uri = try #require(fields.first { $0.hasPrefix("uri=otpauth://totp/example:admin@example.test?secret=") })
        let secretText = try #require(fields.first { $0.hasPrefix("secret=") }).dropFirst("secret=".count)
        #expect(uri.contains("secret=\(secretText)&"))
        #expect(lines.filter { $0.hasPrefix("recovery=") }.count == RecoveryCode.count)
        let secret = try #require(Base32.decode(String(secretText)))

        #expect(try await cli.run(["mfa", "confirm", "12345"]).status == 64)
        let wrong = TOTP.code(secret: secret, step: TOTP.step(at: cli.server.clock.now) + 5)
        #expect(try await cli.run(["mfa", "confirm", wrong]).status == 2)
        let code = TOTP.code(secret: secret, step: TOTP.step(at: cli.server.clock.now))
        let confirmed = try await cli.run(["mfa", "confirm", code])
        #expect(confirmed.status == 0, "\(confirmed.error)")
        #expect(try await cli.run(["mfa", "status", "-o", "plain"]).output == "login=admin@example.test factor=confirmed recovery=10 required=no\n")
        try await cli.stop()
    }

    @Test("enroll draws the URI as a QR code under the table, and only there")
    func qrCode() async throws {
        let cli = try await CLIHarness.start()
        let enrolled = try await cli.run(["mfa", "enroll", "-o", "table"])
        #expect(enrolled.status == 0, "\(enrolled.error)")
        let lines = enrolled.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.first).split(separator: " ", omittingEmptySubsequences: true)
        let row = try #require(lines.dropFirst().first).split(separator: " ", omittingEmptySubsequences: true)
        let uri = try #require(zip(header, row).first { $0.0 == "URI" }.map { String($0.1) })
        #expect(uri.hasPrefix("otpauth://totp/"))
        let caption = try #require(lines.firstIndex(of: "Scan this with your authenticator app:"))
        let drawn = lines[(caption + 1)...].filter { !$0.isEmpty }
        // The half blocks read back are the URI's code: two module rows a line, inside a
        // quiet zone of four.
        let code = try #require(QRCode(text: uri))
        #expect(drawn.count == (code.size + 9) / 2)
        var modules: [[Bool]] = []
        for line in drawn {
            modules.append(line.map { $0 == "█" || $0 == "▀" })
            modules.append(line.map { $0 == "█" || $0 == "▄" })
        }
        #expect((4..<(4 + code.size)).map { Array(modules[$0][4..<(4 + code.size)]) } == code.modules)
        // Not with the machine-readable formats (enrolling again replaces the pending factor).
        let plain = try await cli.run(["mfa", "enroll", "-o", "plain"])
        #expect(plain.status == 0, "\(plain.error)")
        #expect(plain.output.contains("uri=otpauth://") && !plain.output.contains("▀") && !plain.output.contains("Scan this"))
        try await cli.stop()
    }
}
