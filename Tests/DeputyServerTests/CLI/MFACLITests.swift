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
}
