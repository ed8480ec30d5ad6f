import DeputyCore
import Foundation
import Testing

/// The audit retention over the wire: the super administrator sets it, the organisation's
/// entry shows it, and records past it leave the `AUDIT` listing, and stay gone after a
/// restart from the snapshot.
@Suite("Audit retention over the wire")
struct AuditRetentionWireTests {
    @Test func theSuperAdministratorSetsItAndOldRecordsGo() async throws {
        let server = try await TestServer.launch()
        let boss = try await server.boundClient()
        #expect(try await boss.send("ADD USER bob@example.test password=pw-bob").last?.hasPrefix("OK") == true)
        #expect(try await boss.send("GRANT admin bob@example.test").last?.hasPrefix("OK") == true)
        let bob = try await server.boundClient("bob@example.test", password: "pw-bob")
        #expect(try await bob.send("MODIFY ORG auditdays=1") == [
            "ERR denied [audit-retention-by-superadmin] only the super administrator may change how long the audit log keeps its records",
        ])
        #expect(try await boss.send("MODIFY ORG auditdays=40000") == [
            "ERR invalid the audit retention is a number of days from 1 to 36500, or 0 to keep every record",
        ])
        #expect(try await boss.send("MODIFY ORG auditdays=1").last?.hasPrefix("OK organisation updated") == true)
        #expect(try await boss.send("QUERY ORG").first?.contains(" auditdays=1 ") == true)
        #expect(try await boss.send("AUDIT limit=1").first?.contains("action=modify-organization target=example.test detail=auditdays=1 result=ok") == true)

        // A full block of records, then two days on: the block goes once a block of newer
        // records has filled.
        for _ in 0..<520 {
            #expect(try await bob.send("DELETE USER nobody@example.test").first?.hasPrefix("ERR notfound") == true)
        }
        #expect(try await boss.send("AUDIT before=10 limit=5").last == "OK 5 records")
        server.clock.advance(by: 2 * 86_400)
        for _ in 0..<1_100 {
            #expect(try await bob.send("DELETE USER nobody@example.test").first?.hasPrefix("ERR notfound") == true)
        }
        #expect(try await boss.send("MODIFY SPAM spf=reject").last?.hasPrefix("OK spam control updated") == true)
        #expect(try await boss.send("AUDIT before=10 limit=5") == ["OK 0 records"])
        #expect(try await boss.send("AUDIT limit=1").first?.contains("action=modify-spam") == true)

        // After a restart from the snapshot and journal the same records are gone.
        #expect(try await boss.send("SNAPSHOT").first?.hasPrefix("OK snapshot written") == true)
        let kept = try await boss.send("AUDIT limit=1000")
        #expect(kept.last == "OK \(kept.count - 1) records")
        let restarted = try await server.restart()
        let again = try await restarted.boundClient()
        #expect(try await again.send("AUDIT limit=1000") == kept)
        #expect(try await again.send("QUERY ORG").first?.contains(" auditdays=1 ") == true)
        try await restarted.stop()
    }
}
