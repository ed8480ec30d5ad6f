import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Logging
import Testing

/// The listeners over real sockets, driven byte by byte.
@Suite("Mail listeners")
struct MailListenerTests {
    private func netstring(_ payload: String) -> String { "\(payload.utf8.count):\(payload)," }

    @Test("socketmap: many lookups on one connection, pipelined, with unknown maps")
    func socketmap() async throws {
        let server = try await MailTestServer.launch()
        let client = try await ByteClient.connect(port: try server.port(.socketmap))
        try await client.write(netstring("senders Boss@Example.TEST") + netstring("aliases chief@example.test") + netstring("nomap x") + netstring("senders ghost@example.test"))
        let expected = netstring("OK boss@example.test,member1@example.test,member2@example.test,secretary@example.test")
            + netstring("OK boss@example.test") + netstring("PERM unknown map") + netstring("NOTFOUND ")
        #expect(try await client.readText(endingWith: netstring("NOTFOUND ")) == expected)
        // Verbs that would change something are just unknown map names.
        try await client.write(netstring("put senders boss@example.test") + netstring("delete boss@example.test"))
        #expect(try await client.readText(endingWith: netstring("PERM unknown map") + netstring("PERM unknown map")) == netstring("PERM unknown map") + netstring("PERM unknown map"))
        try await server.stop()
    }

    /// With `smtputf8_enable = no` smtpd still takes 8-bit addresses, and Postfix treats
    /// `PERM` as a lookup error (a 451 for the sender or recipient). No address of the
    /// directory is such a key: it is not found, as tcp_table answers it too.
    @Test("socketmap: a key that is not UTF-8 is not found")
    func socketmapEightBitKey() async throws {
        let server = try await MailTestServer.launch()
        let client = try await ByteClient.connect(port: try server.port(.socketmap))
        let payload = Array("senders b".utf8) + [0xFF, 0xFE] + Array("ss@example.test".utf8)
        try await client.write(Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")] + Array(netstring("nomap \u{FF}").utf8))
        #expect(try await client.readText(endingWith: netstring("PERM unknown map")) == netstring("NOTFOUND ") + netstring("PERM unknown map"))
        try await server.stop()
    }

    @Test("socketmap: a malformed or over-long netstring closes the connection")
    func socketmapTrouble() async throws {
        let server = try await MailTestServer.launch(limits: MailAdapterLimits(maximumRequestSize: 64))
        let malformed = try await ByteClient.connect(port: try server.port(.socketmap))
        try await malformed.write("12:senders a@b;" + netstring("senders boss@example.test"))
        #expect(try await malformed.readToClose() == "")
        let long = try await ByteClient.connect(port: try server.port(.socketmap))
        try await long.write(netstring("senders boss@example.test") + "65:")
        #expect(try await long.readToClose() == netstring("OK boss@example.test,member1@example.test,member2@example.test,secretary@example.test"))
        try await server.stop()
    }

    @Test("tcp_table: get with %XX keys, put refused, and the directory unchanged")
    func tcpTable() async throws {
        let server = try await MailTestServer.launch()
        let revision = server.committer.live.directory.revision
        let senders = try await ByteClient.connect(port: try server.port(.tcpTable(.senders)))
        try await senders.write("get gone@example.test\nget a%20b\nput boss@example.test mallory@example.test\ndel boss@example.test\nget Reader%40Example.test\n")
        #expect(try await senders.readText(endingWith: "\n200 reader@example.test,secretary@example.test\n") == """
            200 secretary@example.test
            500 not%20found
            500 read-only%20table
            500 malformed%20request
            200 reader@example.test,secretary@example.test

            """)
        let aliases = try await ByteClient.connect(port: try server.port(.tcpTable(.aliases)))
        try await aliases.write("get team@example.test\n")
        #expect(try await aliases.readText(endingWith: "\n") == "200 member1@example.test,member2@example.test\n")
        #expect(server.committer.live.directory.revision == revision)
        #expect(server.committer.live.directory.senders(of: "boss@example.test", at: server.clock.now).map(\.login.value).contains("mallory@example.test") == false)
        try await server.stop()
    }

    @Test("policy: a delegated send is allowed and recorded once per message")
    func policy() async throws {
        let server = try await MailTestServer.launch()
        let client = try await ByteClient.connect(port: try server.port(.policy))
        func block(_ login: String, _ sender: String, instance: String, recipient: String) -> String {
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.1\nsender=\(sender)\nrecipient=\(recipient)\nsasl_username=\(login)\ninstance=\(instance)\n\n"
        }
        try await client.write(block("secretary@example.test", "boss@example.test", instance: "a.1", recipient: "x@elsewhere.test")
            + block("secretary@example.test", "boss@example.test", instance: "a.1", recipient: "y@elsewhere.test"))
        #expect(try await client.readText(endingWith: "action=DUNNO\n\naction=DUNNO\n\n") == "action=DUNNO\n\naction=DUNNO\n\n")
        try await client.write(block("member1@example.test", "chief@example.test", instance: "b.2", recipient: "x@elsewhere.test")
            + block("reader@example.test", "boss@example.test", instance: "c.3", recipient: "x@elsewhere.test")
            + block("", "boss@example.test", instance: "d.4", recipient: "x@elsewhere.test"))
        #expect(try await client.readText(endingWith: "logged in: log in to send as boss@example.test\n\n") == """
            action=DUNNO

            action=REJECT 5.7.1 reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)

            action=REJECT 5.7.1 not logged in: log in to send as boss@example.test


            """)
        let records = server.recorder.all
        #expect(records.map { "\($0.login) \($0.sender) \($0.grant.owner) \($0.grant.viaGroup?.value ?? "-")" } == [
            "secretary@example.test boss@example.test boss@example.test -",
            "member1@example.test chief@example.test boss@example.test team@example.test",
        ])
        #expect(records.allSatisfy { $0.time == server.clock.now })
        // And the daemon's recorder wrote them to the audit log, naming the delegate as the
        // actor, the mailbox as the target, and the grant with who gave it.
        let audited = server.committer.live.directory.auditLog.all.filter { $0.action == "delegated-send" }
        #expect(audited.map { "\($0.actor) \($0.target) \($0.detail) \($0.outcome == .applied)" } == [
            "secretary@example.test boss@example.test grant=\(records[0].grant.delegation) permissions=read,sendas grantedby=system permission=sendas path=policy true",
            "member1@example.test chief@example.test grant=\(records[1].grant.delegation) permissions=read,manage,sendas grantedby=system permission=sendas path=policy true",
        ])
        try await server.stop()
    }

    @Test("policy: trouble closes the connection without a reply", arguments: [
        "sender=boss@example.test\nthis line has no equals sign\n\n",
        "\n",
        "sender=" + String(repeating: "x", count: 200) + "\n\n",
    ])
    func policyTrouble(_ input: String) async throws {
        let server = try await MailTestServer.launch(limits: MailAdapterLimits(maximumRequestSize: 128))
        let client = try await ByteClient.connect(port: try server.port(.policy))
        try await client.write(input)
        #expect(try await client.readToClose() == "")
        #expect(server.recorder.all.isEmpty)
        try await server.stop()
    }

    @Test("Dovecot auth: handshake, PLAIN and LOGIN, wrong passwords, blocked and unknown accounts")
    func auth() async throws {
        let server = try await MailTestServer.launch()
        let client = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        let handshake = try await client.readText(endingWith: "DONE\n")
        let lines = handshake.split(separator: "\n").map(String.init)
        #expect(lines.first == "VERSION\t1\t2")
        #expect(lines.contains("MECH\tPLAIN\tplaintext") && lines.contains("MECH\tLOGIN\tplaintext"))
        #expect(lines.contains { $0.hasPrefix("COOKIE\t") && $0.count == "COOKIE\t".count + 32 })
        #expect(lines.contains { $0.hasPrefix("SPID\t") } && lines.contains { $0.hasPrefix("CUID\t") })
        func plain(_ login: String, _ password: String) -> String { Data("\0\(login)\0\(password)".utf8).base64EncodedString() }
        try await client.write("VERSION\t1\t2\nCPID\t99\n")
        try await client.write("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tresp=\(plain("Secretary@Example.test", MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "OK\t1\tuser=secretary@example.test\n")
        try await client.write("AUTH\t2\tPLAIN\tservice=smtp\tresp=\(plain("secretary@example.test", "wrong"))\n")
        #expect(try await client.readText(endingWith: "\n") == "FAIL\t2\tuser=secretary@example.test\n")
        try await client.write("AUTH\t3\tPLAIN\tservice=smtp\tresp=\(plain("gone@example.test", MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "FAIL\t3\tuser=gone@example.test\n")
        try await client.write("AUTH\t4\tPLAIN\tservice=smtp\tresp=\(plain("nobody@example.test", MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "FAIL\t4\tuser=nobody@example.test\n")
        try await client.write("AUTH\t5\tLOGIN\tservice=smtp\n")
        #expect(try await client.readText(endingWith: "\n") == "CONT\t5\tVXNlcm5hbWU6\n")
        try await client.write("CONT\t5\t\(Data("boss@example.test".utf8).base64EncodedString())\n")
        #expect(try await client.readText(endingWith: "\n") == "CONT\t5\tUGFzc3dvcmQ6\n")
        try await client.write("CONT\t5\t\(Data(MailFixture.password.utf8).base64EncodedString())\n")
        #expect(try await client.readText(endingWith: "\n") == "OK\t5\tuser=boss@example.test\n")
        try await server.stop()
    }

    @Test("Dovecot auth: failures lock the login from the failing address only, and are audit records")
    func authThrottle() async throws {
        var policy = LoginThrottle.Policy()
        policy.accountFailures = 2
        let server = try await MailTestServer.launch(throttle: policy)
        let client = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        _ = try await client.readText(endingWith: "DONE\n")
        func plain(_ password: String) -> String { Data("\0reader@example.test\0\(password)".utf8).base64EncodedString() }
        try await client.write("VERSION\t1\t2\n")
        for id in 1...2 {
            try await client.write("AUTH\t\(id)\tPLAIN\tservice=smtp\trip=192.0.2.1\tresp=\(plain("guess"))\n")
            #expect(try await client.readText(endingWith: "\n") == "FAIL\t\(id)\tuser=reader@example.test\n")
        }
        // Locked from 192.0.2.1: the right password fails there too...
        try await client.write("AUTH\t3\tPLAIN\tservice=smtp\trip=192.0.2.1\tresp=\(plain(MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "FAIL\t3\tuser=reader@example.test\n")
        // ...but from an address that has not been failing, the owner still gets in.
        try await client.write("AUTH\t4\tPLAIN\tservice=smtp\trip=192.0.2.2\tresp=\(plain(MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "OK\t4\tuser=reader@example.test\n")
        server.clock.advance(by: policy.lockout + 1)
        try await client.write("AUTH\t5\tPLAIN\tservice=smtp\trip=192.0.2.1\tresp=\(plain(MailFixture.password))\n")
        #expect(try await client.readText(endingWith: "\n") == "OK\t5\tuser=reader@example.test\n")
        // The audit log holds each judged failure and the lock, with the address and the
        // way in, and never the password.
        let records = server.committer.live.directory.auditLog.all.filter { $0.action.hasPrefix("login-") }
        #expect(records.map(\.action) == ["login-failed", "login-failed", "login-locked"])
        #expect(records.allSatisfy { $0.target == "reader@example.test" && $0.detail.contains("source=192.0.2.1 via=dovecot-auth") })
        #expect(records.last?.detail.hasSuffix("locked=login-from-source") == true)
        #expect(!records.contains { $0.detail.contains("guess") || $0.detail.contains(MailFixture.password) })
        try await server.stop()
    }

    @Test("while the directory is not ready, every listener answers a temporary failure")
    func notReady() async throws {
        let server = try await MailTestServer.launch()
        server.readiness.set(false)
        let socketmap = try await ByteClient.connect(port: try server.port(.socketmap))
        try await socketmap.write(netstring("senders boss@example.test"))
        #expect(try await socketmap.readText(endingWith: ",") == netstring("TEMP directory not ready"))
        let table = try await ByteClient.connect(port: try server.port(.tcpTable(.senders)))
        try await table.write("get boss@example.test\n")
        #expect(try await table.readText(endingWith: "\n") == "400 directory%20not%20ready\n")
        let policy = try await ByteClient.connect(port: try server.port(.policy))
        try await policy.write("request=smtpd_access_policy\nsender=boss@example.test\nsasl_username=boss@example.test\n\n")
        #expect(try await policy.readText(endingWith: "\n\n") == "action=DEFER_IF_PERMIT 4.3.0 directory not ready\n\n")
        let auth = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        _ = try await auth.readText(endingWith: "DONE\n")
        try await auth.write("VERSION\t1\t2\nAUTH\t1\tPLAIN\tresp=\(Data("\0boss@example.test\0\(MailFixture.password)".utf8).base64EncodedString())\n")
        #expect(try await auth.readText(endingWith: "\n") == "FAIL\t1\ttemp\treason=directory not ready\n")
        let dict = try await ByteClient.connect(unixSocket: server.dictSocket)
        try await dict.write("H3\t2\t0\t\tacl\nLshared/shared-boxes/user/secretary@example.test/boss@example.test\t\n")
        #expect(try await dict.readText(endingWith: "\n") == "Fdirectory not ready\n")
        server.readiness.set(true)
        try await dict.write("Lshared/shared-boxes/user/secretary@example.test/boss@example.test\t\n")
        #expect(try await dict.readText(endingWith: "\n") == "O1\n")
        try await server.stop()
    }

    @Test("a connection over the listener's maximum is closed at once")
    func maximumConnections() async throws {
        let server = try await MailTestServer.launch(limits: MailAdapterLimits(maximumConnections: 1))
        let first = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        #expect(try await first.readText(endingWith: "DONE\n").hasPrefix("VERSION"))
        let second = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        #expect(try await second.readToClose() == "")
        await first.close()
        try await server.stop()
    }

    @Test("a silent connection is closed after the idle timeout")
    func idleTimeout() async throws {
        let server = try await MailTestServer.launch(limits: MailAdapterLimits(idleTimeout: 0.4))
        let client = try await ByteClient.connect(port: try server.port(.socketmap))
        let started = ContinuousClock.now
        #expect(try await client.readToClose(for: 10) == "")
        // The server's timer starts before the client sees its connection open, so only a
        // generous lower bound is safe: closed by the timer, not at once for another reason.
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        try await server.stop()
    }

    /// Postfix keeps these silent on purpose: a milter connection through a message's
    /// upload (the milter skips every event between MAIL FROM and the headers), and one
    /// Dovecot auth connection per smtpd process between logins, which it does not reopen
    /// before an AUTH. Closed like a table's connection, they failed the next message or
    /// login.
    @Test("milter and Dovecot auth connections outlast the idle timeout of table connections")
    func longLivedConnections() async throws {
        let server = try await MailTestServer.launch(limits: MailAdapterLimits(idleTimeout: 0.4), milter: .accept)
        let auth = try await ByteClient.connect(port: try server.port(.dovecotAuth))
        #expect(try await auth.readText(endingWith: "DONE\n").hasPrefix("VERSION"))
        let milter = try await ByteClient.connect(port: try server.port(.milter(.accept)))
        // A table connection opened after both is closed by the idle timer: both have been
        // silent longer than that by then.
        let table = try await ByteClient.connect(port: try server.port(.socketmap))
        #expect(try await table.readToClose(for: 10) == "")
        try await auth.write("VERSION\t1\t2\nAUTH\t1\tPLAIN\tresp=\(Data("\0boss@example.test\0\(MailFixture.password)".utf8).base64EncodedString())\n")
        #expect(try await auth.readText(endingWith: "\n").hasPrefix("OK\t1\t"))
        try await milter.write(MilterTests.negotiation)
        let reply = try await milter.read { $0.count >= 5 }
        #expect(reply.count > 4 && reply[4] == UInt8(ascii: "O"), "\(reply)")
        try await server.stop()
    }

    @Test("graceful shutdown finishes with connections still open")
    func gracefulShutdown() async throws {
        let server = try await MailTestServer.launch()
        let policy = try await ByteClient.connect(port: try server.port(.policy))
        try await policy.write("request=smtpd_access_policy\nsender=\n\n")
        #expect(try await policy.readText(endingWith: "\n\n") == "action=DUNNO\n\n")
        let dict = try await ByteClient.connect(unixSocket: server.dictSocket)
        try await dict.write("H3\t2\t0\t\tacl\nLshared/nothing\t\n")
        #expect(try await dict.readText(endingWith: "\n") == "N\n")
        try await server.stop()
        #expect(try await policy.readToClose() == "")
        #expect(try await dict.readToClose() == "")
    }
}

@Suite("Mail listener binding")
struct MailListenerBindingTests {
    @Test("an address in use fails the start and frees the listeners bound before it")
    func addressInUse() async throws {
        let server = try await MailTestServer.launch()
        let taken = try server.port(.policy)
        let path = server.directoryPath + "/first.sock"
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let environment = try MailEnvironmentForTests.make()
        let failing = MailAdapterServer(
            configuration: MailAdapterConfiguration(listeners: [
                MailAdapterListener(kind: .socketmap, address: .unix(path: path)),
                MailAdapterListener(kind: .policy, address: .tcp(host: "127.0.0.1", port: taken)),
            ]),
            environment: environment, logger: logger
        )
        await #expect(throws: (any Error).self) { try await failing.run() }
        // The first listener was closed again: nothing answers on its socket.
        await #expect(throws: (any Error).self) { _ = try await ByteClient.connect(unixSocket: path) }
        try await server.stop()
    }
}
