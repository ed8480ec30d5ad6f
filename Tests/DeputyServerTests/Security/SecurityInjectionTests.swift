import Foundation
import Testing

/// Hostile text and secrets against the real `deputyd`: what clients send can't forge a
/// reply line, an audit record, a log record or a stored field, and no password is ever
/// written anywhere but as a hash.
@Suite("Injection and secrets", .serialized)
struct SecurityInjectionTests {
    /// A display name with control characters: refused, since a name is shown on one line.
    static let controlQuoted = "\"Eve\\r\\nOK forged\\n* dn=forged\\x07\""
    /// A display name with everything else that could break a line-based or JSON format.
    static let printable = "Eve \"quoted\" a=b * dn=forged OK forged \\ ünïcødé 名前 end"
    /// The same, as a protocol quoted string (and as the reply encodes it).
    static let printableQuoted = "\"Eve \\\"quoted\\\" a=b * dn=forged OK forged \\\\ ünïcødé 名前 end\""

    @Test("CR, LF, quotes, =, control and non-ASCII text forge no reply, audit record, log record or stored field")
    func hostileText() async throws {
        let daemon = try await SecurityDaemon.start()
        let admin = try await daemon.adminClient()
        var replies: [[String]] = []
        replies.append(try await admin.send("ADD USER eve@example.test name=\(Self.controlQuoted)"))
        // One user stored in the snapshot, one only in the journal.
        replies.append(try await admin.send("ADD USER eve@example.test name=\(Self.printableQuoted) password=eve-pw"))
        replies.append(try await admin.send("SNAPSHOT"))
        replies.append(try await admin.send("ADD USER mallory@example.test name=\(Self.printableQuoted)"))
        replies.append(try await admin.send("MODIFY USER mallory@example.test recovery=\"x@y.test\\nOK forged\""))
        replies.append(try await admin.send("QUERY ENTRY eve@example.test"))
        replies.append(try await admin.send("QUERY SEARCH \"(cn=Eve*)\""))
        replies.append(try await admin.send("AUDIT limit=10"))
        // A login that tries to write a record of its own into the log.
        replies.append(try await admin.send("BIND \"x\\n2020-01-01T00:00:00+0000 critical deputyd: forged record\" pw"))
        // A certificate BIND (no password) whose login tries the same, on a connection of its own.
        let stranger = try await daemon.tlsClient()
        #expect(try await stranger.send("BIND \"y\\n2020-01-01T00:00:00+0000 critical deputyd: forged record\"") == ["ERR auth invalid credentials"])
        // Raw control characters in a line, and a NUL.
        try await admin.write("PING\rOK forged\nPING \u{0}\n")
        replies.append(try await admin.readReply())
        replies.append(try await admin.readReply())
        replies.append(try await admin.send("ADD USER nul@example.test name=\"a\\0b\""))

        // Every reply is data lines then one status line; nothing forged a status.
        for reply in replies {
            #expect(reply.dropLast().allSatisfy { $0.hasPrefix("* ") }, "\(reply)")
            #expect(reply.last.map { $0.hasPrefix("OK") || $0.hasPrefix("ERR ") } == true, "\(reply)")
            #expect(!reply.contains("OK forged"))
        }
        #expect(replies[0] == ["ERR invalid a name may not contain control characters"])
        #expect(replies[1].last?.hasPrefix("OK") == true && replies[3].last?.hasPrefix("OK") == true)
        #expect(replies[4].last?.hasPrefix("ERR invalid") == true, "\(replies[4])")
        #expect(replies[5].count == 2 && replies[5][0].contains("cn=\(Self.printableQuoted)"), "\(replies[5])")
        #expect(replies[6].count == 3, "\(replies[6])")
        #expect(replies[7].count == 5, "the organisation, two users and a refused user, audited: \(replies[7])")
        #expect(replies[8] == ["ERR auth invalid credentials"])
        #expect(replies[9].last?.hasPrefix("ERR syntax") == true && replies[10].last?.hasPrefix("ERR syntax") == true)
        #expect(replies[11].last?.hasPrefix("ERR") == true, "a NUL in a name: \(replies[11])")

        // The log: every record is one line that starts with its timestamp.
        let logLines = daemon.logText.split(separator: "\n")
        // The failed BIND is logged; its login, being no address of the organisation, not as
        // typed. A certificate BIND's login, which is no secret, is logged escaped.
        #expect(logLines.contains { $0.contains("bind failed") && $0.contains("auth.login=withheld-login") }, "the failed BIND is logged")
        #expect(logLines.contains { $0.contains("bind by certificate failed") && $0.contains("auth.login=y\\n2020-01-01") }, "escaped")
        for line in logLines {
            #expect(line.first == "2" && line.contains("+0000 "), "a log line that is not a record: \(line)")
            #expect(!line.hasPrefix("2020-01-01"))
        }

        // Stored: the snapshot holds eve, the journal mallory; a crash and an export read
        // both back exactly.
        await daemon.crash()
        let export = daemon.root.appendingPathComponent("export.json").path
        let run = try await ProcessRunner.run(SecurityDaemon.binary, ["export", "--data", daemon.data, "--to", export])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: export))) as? [String: Any])
        let users = try #require((document["directory"] as? [String: Any])?["users"] as? [[String: Any]])
        for address in ["eve@example.test", "mallory@example.test"] {
            let user = try #require(users.first { $0["address"] as? String == address })
            #expect(user["displayName"] as? String == Self.printable, "\(address): \(user["displayName"] ?? "none")")
        }
        try? FileManager.default.removeItem(at: daemon.root)
    }

    @Test("an initial password given by flag or variable appears nowhere in a trace log, through start, reload and shutdown")
    func configuredPasswordStaysSecret() async throws {
        let flagged = "Pw-Flag-4716"
        let variable = "Pw-Variable-4717"
        for (arguments, environment, password) in [
            (["--log-level", "trace", "--initial-password", flagged], [:], flagged),
            (["--log-level", "trace"], ["DEPUTY_INITIAL_PASSWORD": variable], variable),
        ] {
            let daemon = try await SecurityDaemon.start(arguments, environment: environment, password: password)
            let admin = try await daemon.adminClient()
            #expect(try await admin.send("PING") == ["OK pong"])
            try await daemon.reload()
            #expect(await daemon.stop(removingFiles: false))
            let log = daemon.logText
            // The log is the full trace, service start-up and reload included.
            #expect(log.contains("Starting service") && log.contains("configuration reloaded"), "\(log)")
            #expect(!log.contains(password), "the initial password appears in the log")
            for name in try FileManager.default.contentsOfDirectory(atPath: daemon.data) {
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: (daemon.data as NSString).appendingPathComponent(name))), as: UTF8.self)
                #expect(!text.contains(password), "the initial password appears in \(name)")
            }
            try? FileManager.default.removeItem(at: daemon.root)
        }
    }

    @Test("test passwords appear nowhere: not in logs, audit records, snapshots, journals or replies")
    func secretsStaySecret() async throws {
        let daemon = try await SecurityDaemon.start(["--log-level", "trace"])
        let admin = try await daemon.adminClient()
        let secrets = ["Pw-Alpha-4711", "Pw=Beta \"quoted\" 4712", "Pw-Gamma-4713", "Pw-Delta-4714", "Pw-Epsilon-4715", daemon.password]
        var replies: [String] = []
        for line in [
            "ADD USER alice@example.test password=\(secrets[0])",
            "ADD USER alice@example.test password=\(secrets[0])",
            "ADD USER bob@example.test password=\"Pw=Beta \\\"quoted\\\" 4712\" name=Bob",
            "PASSWD alice@example.test new=\(secrets[2])",
            "ADD SERVICE relay password=\(secrets[3])",
            "SNAPSHOT",
            "PASSWD admin@example.test old=\(secrets[4]) new=\(secrets[4])",
            "REAUTH \(secrets[4])",
            "AUDIT limit=100",
            "QUERY ENTRY alice@example.test",
            "QUERY SEARCH \"(mail=*)\"",
        ] {
            replies += try await admin.send(line)
        }
        let other = try await daemon.tlsClient()
        for line in [
            "BIND alice@example.test \(secrets[0])", "BIND alice@example.test \(secrets[4])", "BIND nobody@example.test \(secrets[4])",
            "BIND relay \(secrets[3])", "BIND alice@example.test \(secrets[2])", "PASSWD alice@example.test old=\(secrets[4]) new=\(secrets[0])",
        ] {
            replies += try await other.send(line)
        }
        #expect(replies.contains("OK bound as relay") && replies.contains("OK bound as alice@example.test"))
        #expect(await daemon.stop(removingFiles: false))

        var places: [(String, String)] = [("replies", replies.joined(separator: "\n")), ("log", daemon.logText)]
        for name in try FileManager.default.contentsOfDirectory(atPath: daemon.data) where name != "initial-password" {
            let path = (daemon.data as NSString).appendingPathComponent(name)
            places.append((name, String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)))
        }
        #expect(places.count >= 5, "\(places.map(\.0))")
        for (place, text) in places {
            for secret in secrets {
                #expect(!text.contains(secret), "a password appears in \(place)")
            }
        }
        try? FileManager.default.removeItem(at: daemon.root)
    }
}
