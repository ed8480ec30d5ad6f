import DeputyCore
import Foundation
import Testing

/// What the audit log keeps of a failed login: the account's login, or a guessed address in
/// one of the organisation's domains, but nothing else, since that is often a password typed
/// into the wrong field.
@Suite("Failed logins in the audit log")
struct FailedLoginRecordTests {
    @Test func aLoginThatIsNoAddressIsNotKept() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        for login in ["Tr0ub4dor&3", "correct-horse-battery-staple", "Summer@2024.de", "Guess@Example.TEST", "admin@example.test"] {
            let client = try await server.plainClient()
            #expect(try await client.send("BIND \"\(login)\" wrong-password") == ["ERR auth invalid credentials"])
        }
        let audit = try await admin.send("AUDIT limit=10")
        let failed = audit.filter { $0.contains("action=login-failed") }
        #expect(failed.count == 5, "\(audit)")
        #expect(failed.filter { $0.contains("target=withheld-login ") }.count == 3, "\(failed)")
        #expect(failed.contains { $0.contains("target=Guess@Example.TEST ") }, "\(failed)")
        #expect(failed.contains { $0.contains("target=admin@example.test ") }, "\(failed)")
        #expect(!audit.contains { $0.contains("Tr0ub4dor") || $0.contains("correct-horse") || $0.contains("Summer") }, "\(audit)")
        #expect(try await admin.send("AUDIT target=withheld-login limit=10").last == "OK 3 records")
        try await server.stop()
    }
}
