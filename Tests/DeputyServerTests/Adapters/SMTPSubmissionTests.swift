import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Testing

/// Postfix's own smtpd, with SASL through the Dovecot auth listener and the sender checked
/// through the socketmap or the policy listener. smtpd listens on Unix sockets of a private
/// master, so no network port is opened.
@Suite("Postfix smtpd end to end", .serialized)
struct SMTPSubmissionTests {
    /// One SMTP session on a Unix socket: greeting, EHLO, AUTH PLAIN, then MAIL FROM.
    private struct Session {
        let client: ByteClient

        static func open(_ path: String) async throws -> Session {
            let client = try await ByteClient.connect(unixSocket: path)
            let greeting = try await client.readText(endingWith: "\r\n")
            guard greeting.hasPrefix("220 ") else { throw TestFailure("greeting: \(greeting)") }
            try await client.write("EHLO client.example.test\r\n")
            let ehlo = try await Self.replyLines(client)
            guard ehlo.contains("AUTH PLAIN LOGIN") || ehlo.contains("AUTH LOGIN PLAIN") else { throw TestFailure("no AUTH offered: \(ehlo)") }
            return Session(client: client)
        }

        /// The reply's last line.
        static func reply(_ client: ByteClient) async throws -> String {
            try await replyLines(client).split(separator: "\r\n").last.map(String.init) ?? ""
        }

        /// The whole reply, once every `NNN-` line and the final `NNN ` line have come.
        static func replyLines(_ client: ByteClient) async throws -> String {
            let bytes = try await client.read { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                guard text.hasSuffix("\r\n") else { return false }
                let last = text.split(separator: "\r\n").last ?? ""
                return last.count >= 4 && last[last.index(last.startIndex, offsetBy: 3)] == " "
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        func command(_ line: String) async throws -> String {
            try await client.write(line + "\r\n")
            return try await Self.reply(client)
        }

        func login(_ login: String, password: String = MailFixture.password) async throws -> String {
            try await command("AUTH PLAIN " + Data("\0\(login)\0\(password)".utf8).base64EncodedString())
        }

        func close() async {
            _ = try? await command("QUIT")
            await client.close()
        }
    }

    /// Runs Postfix with two submission services on Unix sockets: `sm-login` checks senders
    /// with reject_sender_login_mismatch over the socketmap, `sm-policy` with the policy
    /// service; `sm-delayed` with the policy service and `smtpd_delay_reject` at Postfix's
    /// default, as docs/postfix.md leaves it. All authenticate through the Dovecot auth
    /// listener.
    private static func withPostfix(_ server: MailTestServer, settings: [String] = [], _ body: (PostfixInstance) async throws -> Void) async throws {
        let postfix = try PostfixInstance.configuration([
            "smtpd_sasl_auth_enable = yes",
            "smtpd_sasl_type = dovecot",
            "smtpd_sasl_path = inet:127.0.0.1:\(try server.port(.dovecotAuth))",
            "smtpd_sender_login_maps = socketmap:inet:127.0.0.1:\(try server.port(.socketmap)):senders",
            // Sender restrictions at MAIL FROM, so each check shows in MAIL FROM's reply.
            "smtpd_delay_reject = no",
            "smtpd_recipient_restrictions = permit_sasl_authenticated, reject",
        ] + settings)
        let policy = "check_policy_service inet:127.0.0.1:\(try server.port(.policy))"
        try postfix.writeMaster(services: [
            "sm-login  unix  n  -  n  -  -  smtpd -o smtpd_sender_restrictions=reject_sender_login_mismatch",
            "sm-policy unix  n  -  n  -  -  smtpd -o { smtpd_sender_restrictions = \(policy) }",
            "sm-delayed unix  n  -  n  -  -  smtpd -o smtpd_delay_reject=yes -o { smtpd_sender_restrictions = \(policy) }",
        ])
        do {
            try await postfix.start(waitingFor: "sm-delayed")
            try await body(postfix)
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }

    private func mailFrom(_ socket: String, login: String?, sender: String) async throws -> String {
        let session = try await Session.open(socket)
        if let login {
            let auth = try await session.login(login)
            guard auth.hasPrefix("235 ") else { throw TestFailure("AUTH as \(login): \(auth)") }
        }
        let reply = try await session.command("MAIL FROM:<\(sender)>")
        await session.close()
        return reply
    }

    @Test("reject_sender_login_mismatch with the senders socketmap and Deputy's SASL")
    func senderLoginMaps() async throws {
        let server = try await MailTestServer.launch()
        try await Self.withPostfix(server) { postfix in
            let socket = postfix.queue + "/public/sm-login"
            #expect(try await mailFrom(socket, login: "boss@example.test", sender: "boss@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(socket, login: "boss@example.test", sender: "Chief@Example.test").hasPrefix("250 "))
            #expect(try await mailFrom(socket, login: "secretary@example.test", sender: "boss@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(socket, login: "member1@example.test", sender: "boss@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(socket, login: "reader@example.test", sender: "boss@example.test")
                == "553 5.7.1 <boss@example.test>: Sender address rejected: not owned by user reader@example.test")
            #expect(try await mailFrom(socket, login: "temp@example.test", sender: "boss@example.test").hasPrefix("553 5.7.1 "))
            #expect(try await mailFrom(socket, login: nil, sender: "boss@example.test")
                == "553 5.7.1 <boss@example.test>: Sender address rejected: not logged in")

            // A wrong password is refused by Deputy.
            let session = try await Session.open(socket)
            #expect(try await session.login("boss@example.test", password: "wrong").hasPrefix("535 "))
            await session.close()

            // Revoking the delegation turns the next session's 250 into a 553.
            try await server.commit(.undelegate(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("secretary@example.test")))
            #expect(try await mailFrom(socket, login: "secretary@example.test", sender: "boss@example.test")
                == "553 5.7.1 <boss@example.test>: Sender address rejected: not owned by user secretary@example.test")
        }
        try await server.stop()
    }

    @Test("recipient_delimiter: boss+news@ is boss's and his delegates' to send as, and a known recipient that keeps its extension")
    func addressExtensions() async throws {
        let server = try await MailTestServer.launch(recipientDelimiter: RecipientDelimiter("+")!)
        let socketmap = "socketmap:inet:127.0.0.1:\(try server.port(.socketmap))"
        try await Self.withPostfix(server, settings: [
            "recipient_delimiter = +", "virtual_alias_domains = example.test", "virtual_alias_maps = \(socketmap):aliases",
        ]) { postfix in
            let login = postfix.queue + "/public/sm-login"
            #expect(try await mailFrom(login, login: "boss@example.test", sender: "boss+news@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(login, login: "secretary@example.test", sender: "chief+news@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(login, login: "reader@example.test", sender: "boss+news@example.test")
                == "553 5.7.1 <boss+news@example.test>: Sender address rejected: not owned by user reader@example.test")

            let policy = postfix.queue + "/public/sm-policy"
            #expect(try await mailFrom(policy, login: "secretary@example.test", sender: "boss+news@example.test").hasPrefix("250 "))
            #expect(server.recorder.all.map { "\($0.login) \($0.sender)" } == ["secretary@example.test boss@example.test"])

            // Recipients: Postfix rejects one its virtual alias table does not list.
            let session = try await Session.open(login)
            #expect(try await session.login("boss@example.test").hasPrefix("235 "))
            #expect(try await session.command("MAIL FROM:<boss@example.test>").hasPrefix("250 "))
            #expect(try await session.command("RCPT TO:<member1+lists@example.test>").hasPrefix("250 "))
            #expect(try await session.command("RCPT TO:<team+lists@example.test>").hasPrefix("250 "))
            let unknown = try await session.command("RCPT TO:<ghost+lists@example.test>")
            #expect(unknown.hasPrefix("550 5.1.1 "), "\(unknown)")
            await session.close()

            let expanded = try await postfix.query("team+lists@example.test", "\(socketmap):aliases")
            #expect(expanded.stdout == "member1+lists@example.test,member2+lists@example.test\n", "\(expanded.stderr)")
        }
        try await server.stop()
    }

    @Test("check_policy_service: the reason reaches the client, and delegated sends are recorded")
    func policyService() async throws {
        let server = try await MailTestServer.launch()
        try await Self.withPostfix(server) { postfix in
            let socket = postfix.queue + "/public/sm-policy"
            #expect(try await mailFrom(socket, login: "boss@example.test", sender: "boss@example.test").hasPrefix("250 "))
            #expect(server.recorder.all.isEmpty)
            #expect(try await mailFrom(socket, login: "secretary@example.test", sender: "boss@example.test").hasPrefix("250 "))
            #expect(try await mailFrom(socket, login: "member2@example.test", sender: "chief@example.test").hasPrefix("250 "))
            #expect(server.recorder.all.map { "\($0.login) \($0.sender) \($0.grant.viaGroup?.value ?? "direct")" } == [
                "secretary@example.test boss@example.test direct",
                "member2@example.test chief@example.test team@example.test",
            ])
            #expect(try await mailFrom(socket, login: "reader@example.test", sender: "boss@example.test")
                == "554 5.7.1 <boss@example.test>: Sender address rejected: reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)")
            #expect(try await mailFrom(socket, login: nil, sender: "boss@example.test")
                == "554 5.7.1 <boss@example.test>: Sender address rejected: not logged in: log in to send as boss@example.test")
            #expect(try await mailFrom(socket, login: nil, sender: "friend@elsewhere.test").hasPrefix("250 "))

            try await server.commit(.undelegate(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("secretary@example.test")))
            #expect(try await mailFrom(socket, login: "secretary@example.test", sender: "boss@example.test")
                == "554 5.7.1 <boss@example.test>: Sender address rejected: secretary@example.test is not allowed to send as boss@example.test (reason=lacks-permission)")
            #expect(server.recorder.all.count == 2)
            let audited = server.committer.live.directory.auditLog.all.filter { $0.action == "delegated-send" }
            #expect(audited.map { "\($0.actor) \($0.target) \($0.detail.split(separator: " ").first ?? "")" } == server.recorder.all.map { "\($0.login) \($0.sender) grant=\($0.grant.delegation)" })
        }
        try await server.stop()
    }

    @Test("with smtpd_delay_reject at its default, as docs/postfix.md leaves it: MAIL FROM is accepted and the policy's refusal comes at RCPT TO")
    func policyRefusalAtRecipient() async throws {
        let server = try await MailTestServer.launch()
        try await Self.withPostfix(server) { postfix in
            let socket = postfix.queue + "/public/sm-delayed"
            let refused = try await Session.open(socket)
            #expect(try await refused.login("reader@example.test").hasPrefix("235 "))
            #expect(try await refused.command("MAIL FROM:<boss@example.test>").hasPrefix("250 2.1.0"))
            let recipient = try await refused.command("RCPT TO:<someone@elsewhere.test>")
            #expect(recipient.hasPrefix("554 5.7.1 <boss@example.test>: Sender address rejected: reader@example.test is not allowed to send as boss@example.test"), "\(recipient)")
            await refused.close()
            let allowed = try await Session.open(socket)
            #expect(try await allowed.login("secretary@example.test").hasPrefix("235 "))
            #expect(try await allowed.command("MAIL FROM:<boss@example.test>").hasPrefix("250 2.1.0"))
            #expect(try await allowed.command("RCPT TO:<someone@elsewhere.test>").hasPrefix("250 2.1.5"))
            await allowed.close()
        }
        try await server.stop()
    }
}
