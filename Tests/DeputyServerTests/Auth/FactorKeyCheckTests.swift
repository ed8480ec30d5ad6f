import DeputyCore
import DeputyServer
import Foundation
import Logging
import Synchronization
import Testing

/// The start's check of the factor key against the directory's sealed secrets, as logged.
@Suite("Factor key check")
struct FactorKeyCheckTests {
    @Test("silent when the key opens every secret; an error naming the count, and a key made just now, when it does not")
    func report() throws {
        let key = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        let other = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        var directory = TestServer.directory()
        let admin = try #require(directory.user(at: EmailAddress("admin@example.test")!))
        let enrolment = FactorEnrolment(sealedSecret: key.seal([1, 2, 3], for: admin.id), recoveryCodes: [RecoveryCode.hash("aaaa-bbbb-cccc-dddd")])
        guard case .success = directory.apply(.enrollSecondFactor(admin.address, enrolment), context: CommandContext(actor: .user(admin.id), time: TestServer.start)) else {
            Issue.record("the enrolment was refused")
            return
        }

        let quiet = LogCapture()
        FactorKeyCheck(box: key, directory: directory).report(keyFile: "/data/factor-key", logger: quiet.logger)
        #expect(quiet.lines.isEmpty)

        let made = LogCapture()
        FactorKeyCheck(box: other, directory: directory).report(keyFile: "/data/factor-key", made: true, logger: made.logger)
        let lines = made.lines
        #expect(lines.count == 1 && lines.first?.level == .error)
        #expect(lines.first?.message.hasPrefix("1 of 1 second-factor secrets do not open with /data/factor-key, a key made just now because the data directory had none") == true, "\(lines)")
    }
}
