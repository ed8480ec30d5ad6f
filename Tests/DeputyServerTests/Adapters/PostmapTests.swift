import DeputyCore
import DeputyServer
import Foundation
import Testing

/// Postfix's own table client, postmap, against the socketmap and tcp_table listeners.
@Suite("postmap against socketmap and tcp_table", .serialized)
struct PostmapTests {
    /// Each lookup and the value postmap must print, or `nil` for not found.
    static let lookups: [(map: MailMap, key: String, value: String?)] = [
        (.senders, "boss@example.test", "boss@example.test,member1@example.test,member2@example.test,secretary@example.test"),
        (.senders, "Chief@Example.TEST", "boss@example.test,member1@example.test,member2@example.test,secretary@example.test"),
        (.senders, "gone@example.test", "secretary@example.test"),
        (.senders, "reader@example.test", "reader@example.test,secretary@example.test"),
        (.senders, "temp@example.test", "temp@example.test"),
        (.senders, "ghost@example.test", nil),
        (.senders, "blockeduser@example.test", nil),
        (.delegates, "BOSS@example.test", "secretary@example.test:read+sendas,reader@example.test:read,team@example.test:read+manage+sendas"),
        (.delegates, "gone@example.test", "secretary@example.test:read+sendas"),
        (.delegates, "member1@example.test", nil),
        (.mailboxes, "Secretary@Example.Test", "secretary@example.test,boss@example.test,gone@example.test"),
        (.mailboxes, "temp@example.test", "temp@example.test"),
        (.mailboxes, "member2@example.test", "member2@example.test,boss@example.test"),
        (.aliases, "chief@example.test", "boss@example.test"),
        (.aliases, "team@example.test", "member1@example.test,member2@example.test"),
        (.aliases, "nobody@example.test", nil),
    ]

    @Test("socketmap: every map, found and not found")
    func socketmap() async throws {
        let server = try await MailTestServer.launch()
        let postfix = try PostfixInstance.configuration()
        let port = try server.port(.socketmap)
        for lookup in Self.lookups {
            let output = try await postfix.query(lookup.key, "socketmap:inet:127.0.0.1:\(port):\(lookup.map.rawValue)")
            if let value = lookup.value {
                #expect(output.status == 0 && output.stdout == value + "\n", "\(lookup.map) \(lookup.key): \(output.stdout) \(output.stderr)")
            } else {
                #expect(output.status == 1 && output.stdout.isEmpty && output.stderr.isEmpty, "\(lookup.map) \(lookup.key): \(output.stdout) \(output.stderr)")
            }
        }
        let unknown = try await postfix.query("boss@example.test", "socketmap:inet:127.0.0.1:\(port):owners")
        #expect(unknown.status != 0 && unknown.stdout.isEmpty)
        #expect(unknown.stderr.contains("unknown map"), "\(unknown.stderr)")
        await postfix.stop()
        try await server.stop()
    }

    @Test("socketmap: many keys over one connection with postmap -q -")
    func socketmapMany() async throws {
        let server = try await MailTestServer.launch()
        let postfix = try PostfixInstance.configuration()
        let keys = MailFixture.addresses + MailFixture.addresses.map { $0.uppercased() }
        let output = try await postfix.query(keys: keys, "socketmap:inet:127.0.0.1:\(try server.port(.socketmap)):senders")
        let directory = server.committer.live.directory
        let expected = keys.compactMap { key -> String? in
            let logins = directory.senders(of: key, at: server.clock.now).map(\.login.value)
            return logins.isEmpty ? nil : "\(key)\t\(logins.joined(separator: ","))"
        }
        #expect(expected.count > 10)
        #expect(output.stdout.split(separator: "\n").map(String.init) == expected, "\(output.stderr)")
        await postfix.stop()
        try await server.stop()
    }

    @Test("tcp_table: the configured map, found and not found, many keys on one connection")
    func tcpTable() async throws {
        let server = try await MailTestServer.launch(tcpTableMaps: [.senders, .aliases, .delegates, .mailboxes])
        let postfix = try PostfixInstance.configuration()
        for lookup in Self.lookups {
            let output = try await postfix.query(lookup.key, "tcp:127.0.0.1:\(try server.port(.tcpTable(lookup.map)))")
            if let value = lookup.value {
                #expect(output.status == 0 && output.stdout == value + "\n", "\(lookup.map) \(lookup.key): \(output.stdout) \(output.stderr)")
            } else {
                #expect(output.status == 1 && output.stdout.isEmpty, "\(lookup.map) \(lookup.key): \(output.stdout) \(output.stderr)")
            }
        }
        let many = try await postfix.query(keys: ["chief@example.test", "ghost@example.test", "TEAM@example.test"], "tcp:127.0.0.1:\(try server.port(.tcpTable(.aliases)))")
        #expect(many.stdout == "chief@example.test\tboss@example.test\nTEAM@example.test\tmember1@example.test,member2@example.test\n", "\(many.stderr)")
        await postfix.stop()
        try await server.stop()
    }

    @Test("a directory that is not ready is a query error, not 'not found'")
    func notReady() async throws {
        let server = try await MailTestServer.launch()
        server.readiness.set(false)
        let postfix = try PostfixInstance.configuration()
        let socketmap = try await postfix.query("boss@example.test", "socketmap:inet:127.0.0.1:\(try server.port(.socketmap)):senders")
        #expect(socketmap.status != 0 && socketmap.stderr.contains("fatal"), "\(socketmap.stderr)")
        let table = try await postfix.query("boss@example.test", "tcp:127.0.0.1:\(try server.port(.tcpTable(.senders)))")
        #expect(table.status != 0 && table.stderr.contains("fatal"), "\(table.stderr)")
        await postfix.stop()
        try await server.stop()
    }

    @Test("a revoked delegation disappears from the next lookup")
    func revocation() async throws {
        let server = try await MailTestServer.launch()
        let postfix = try PostfixInstance.configuration()
        let table = "socketmap:inet:127.0.0.1:\(try server.port(.socketmap)):senders"
        #expect(try await postfix.query("gone@example.test", table).stdout == "secretary@example.test\n")
        try await server.commit(.undelegate(mailbox: MailFixture.address("gone@example.test"), delegate: MailFixture.address("secretary@example.test")))
        let after = try await postfix.query("gone@example.test", table)
        #expect(after.status == 1 && after.stdout.isEmpty)
        await postfix.stop()
        try await server.stop()
    }
}
