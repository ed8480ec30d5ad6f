import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Testing

/// Postfix's own smtpd with Deputy's milter in `smtpd_milters`: whole messages submitted
/// over SMTP with authentication, their `From:` checked against the login's rights. The
/// service holds accepted mail (`HOLD`), so the queued message shows what recipients
/// would get.
@Suite("Postfix smtpd with the milter, end to end", .serialized)
struct MilterSubmissionTests {
    /// What one submission got: the reply to the end of DATA, and the queue id when queued.
    struct Submission {
        let reply: String
        var queueID: String? {
            guard reply.hasPrefix("250 "), let range = reply.range(of: "queued as ") else { return nil }
            return String(reply[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    private static func withPostfix(_ server: MailTestServer, _ body: (PostfixInstance) async throws -> Void) async throws {
        let postfix = try PostfixInstance.configuration([
            "smtpd_sasl_auth_enable = yes",
            "smtpd_sasl_type = dovecot",
            "smtpd_sasl_path = inet:127.0.0.1:\(try server.port(.dovecotAuth))",
            "smtpd_recipient_restrictions = permit_sasl_authenticated, reject",
            "smtpd_milters = inet:127.0.0.1:\(try server.port(.milter(.accept)))",
            // A milter that can't be reached fails the message for now, never lets it through.
            "milter_default_action = tempfail",
        ])
        try postfix.writeMaster(services: [
            "sm-milter unix  n  -  n  -  -  smtpd -o smtpd_data_restrictions=check_client_access,static:HOLD",
        ])
        do {
            try await postfix.start(waitingFor: "sm-milter")
            try await body(postfix)
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }

    /// One message from `login` (none: unauthenticated) with envelope sender `envelope`
    /// and `headers` before a one-line body.
    private func submit(_ postfix: PostfixInstance, login: String?, envelope: String, headers: [String]) async throws -> Submission {
        let client = try await ByteClient.connect(unixSocket: postfix.queue + "/public/sm-milter")
        defer { Task { await client.close() } }
        func command(_ line: String) async throws -> String {
            try await client.write(line + "\r\n")
            return try await Self.reply(client)
        }
        let greeting = try await Self.reply(client)
        guard greeting.hasPrefix("220 ") else { throw TestFailure("greeting: \(greeting)") }
        _ = try await command("EHLO client.example.test")
        if let login {
            let auth = try await command("AUTH PLAIN " + Data("\0\(login)\0\(MailFixture.password)".utf8).base64EncodedString())
            guard auth.hasPrefix("235 ") else { throw TestFailure("AUTH as \(login): \(auth)") }
        }
        let mail = try await command("MAIL FROM:<\(envelope)>")
        guard mail.hasPrefix("250 ") else { return Submission(reply: mail) }
        let recipient = try await command("RCPT TO:<someone@elsewhere.test>")
        guard recipient.hasPrefix("250 ") else { return Submission(reply: recipient) }
        let data = try await command("DATA")
        guard data.hasPrefix("354 ") else { throw TestFailure("DATA: \(data)") }
        let message = (headers + ["Subject: test", "", "Hello."]).joined(separator: "\r\n") + "\r\n."
        let reply = try await command(message)
        _ = try? await command("QUIT")
        return Submission(reply: reply)
    }

    /// The reply's last line, once every `NNN-` line and the final `NNN ` line have come.
    private static func reply(_ client: ByteClient) async throws -> String {
        let bytes = try await client.read { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.hasSuffix("\r\n") else { return false }
            let last = text.split(separator: "\r\n").last ?? ""
            return last.count >= 4 && last[last.index(last.startIndex, offsetBy: 3)] == " "
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").last.map(String.init) ?? ""
    }

    /// The headers of the queued message `queueID`, as `postcat` prints them.
    private func queuedHeaders(_ postfix: PostfixInstance, _ queueID: String) async throws -> [String] {
        let output = try await ExternalTool.run("postcat", ["-c", postfix.directory, "-h", "-q", queueID])
        guard output.status == 0 else { throw TestFailure("postcat \(queueID): \(output.stderr)") }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    /// The `delegated-send` audit records of the directory.
    private func audited(_ server: MailTestServer) -> [AuditRecord] {
        server.committer.live.directory.auditLog.all.filter { $0.action == "delegated-send" }
    }

    @Test("From: as, on behalf of, refused with the reason, a shared mailbox; one audit record per delegated message with its queue id")
    func fromHeader() async throws {
        let server = try await MailTestServer.launch(milter: .accept)
        let hash = MailFixture.hasher.hash(MailFixture.password)
        for user in ["carol", "dave"] {
            try await server.commit(.addUser(NewUser(address: MailFixture.address("\(user)@example.test"), displayName: user, passwordHash: hash)))
        }
        try await server.commit(.delegate(NewDelegation(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("carol@example.test"), permissions: PermissionSet([.sendOnBehalf]))))
        try await server.commit(.addGroup(NewGroup(address: MailFixture.address("sales@example.test"), name: "Sales", kind: .organization, members: [MailFixture.address("member1@example.test")])))
        try await server.commit(.delegate(NewDelegation(mailbox: MailFixture.address("sales@example.test"), delegate: MailFixture.address("member1@example.test"), permissions: PermissionSet([.read, .sendAs]))))
        let directory = server.committer.live.directory
        let carolGrant = directory.delegates(of: "boss@example.test", at: server.clock.now)!.first { $0.delegate.value == "carol@example.test" }!.delegation
        let salesGrant = directory.delegates(of: "sales@example.test", at: server.clock.now)!.first!.delegation
        let secretaryGrant = directory.delegates(of: "boss@example.test", at: server.clock.now)!.first { $0.delegate.value == "secretary@example.test" }!.delegation

        try await Self.withPostfix(server) { postfix in
            // Send-as: accepted, headers as they were.
            let asBoss = try await submit(postfix, login: "secretary@example.test", envelope: "secretary@example.test",
                                          headers: ["From: The Boss <boss@example.test>", "Message-ID: <one@client.example.test>"])
            let asBossID = try #require(asBoss.queueID, "\(asBoss.reply)")
            let asBossHeaders = try await queuedHeaders(postfix, asBossID)
            #expect(asBossHeaders.contains("From: The Boss <boss@example.test>"))
            #expect(!asBossHeaders.contains { $0.lowercased().hasPrefix("sender:") }, "\(asBossHeaders)")

            // Send-on-behalf: accepted, Sender: added naming the login.
            let onBehalf = try await submit(postfix, login: "carol@example.test", envelope: "carol@example.test",
                                            headers: ["From: boss@example.test", "Message-ID: <two@client.example.test>"])
            let onBehalfID = try #require(onBehalf.queueID, "\(onBehalf.reply)")
            let onBehalfHeaders = try await queuedHeaders(postfix, onBehalfID)
            #expect(onBehalfHeaders.contains("Sender: carol@example.test"), "\(onBehalfHeaders)")
            #expect(onBehalfHeaders.contains("From: boss@example.test"))

            // With Sender: naming someone else, on behalf of is refused.
            let wrongSender = try await submit(postfix, login: "carol@example.test", envelope: "carol@example.test",
                                               headers: ["From: boss@example.test", "Sender: secretary@example.test"])
            #expect(wrongSender.reply == "554 5.7.1 Sender: must name carol@example.test when sending on behalf of boss@example.test")

            // Nothing delegated: refused with the reason, though the envelope is dave's own.
            let forged = try await submit(postfix, login: "dave@example.test", envelope: "dave@example.test", headers: ["From: boss@example.test"])
            #expect(forged.reply == "554 5.7.1 From: dave@example.test is not allowed to send as boss@example.test (reason=lacks-permission)")
            let readOnly = try await submit(postfix, login: "reader@example.test", envelope: "reader@example.test", headers: ["From: boss@example.test"])
            #expect(readOnly.reply == "554 5.7.1 From: reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)")

            // A member of sales@ with a delegation on the shared mailbox sends as it.
            let shared = try await submit(postfix, login: "member1@example.test", envelope: "member1@example.test",
                                          headers: ["From: Sales <sales@example.test>", "Message-ID: <three@client.example.test>"])
            let sharedID = try #require(shared.queueID, "\(shared.reply)")

            // Own address: accepted, nothing recorded.
            #expect(try await submit(postfix, login: "dave@example.test", envelope: "dave@example.test", headers: ["From: Dave <dave@example.test>"]).queueID != nil)

            // Exactly one record per delegated message, each with its queue id and Message-ID.
            let records = audited(server)
            #expect(records.map(\.actor) == ["secretary@example.test", "carol@example.test", "member1@example.test"])
            #expect(records.map(\.target) == ["boss@example.test", "boss@example.test", "sales@example.test"])
            #expect(records.map { $0.detail.split(separator: " ").first.map(String.init) ?? "" } == ["grant=\(secretaryGrant)", "grant=\(carolGrant)", "grant=\(salesGrant)"])
            for (record, (queueID, permission, messageID)) in zip(records, [
                (asBossID, "sendas", "<one@client.example.test>"), (onBehalfID, "sendonbehalf", "<two@client.example.test>"), (sharedID, "sendas", "<three@client.example.test>"),
            ]) {
                #expect(record.detail.contains(" permission=\(permission) path=milter queueid=\(queueID) messageid=\(messageID)"), "\(record.detail)")
            }
            #expect(AuditFilterCheck.actor("carol@example.test", in: server) == 1)
        }
        try await server.stop()
    }
}

/// `AUDIT actor=` as the protocol answers it, over the directory's audit log.
enum AuditFilterCheck {
    static func actor(_ actor: String, in server: MailTestServer) -> Int {
        server.committer.live.directory.auditLog.search(AuditFilter(actor: actor), limit: 100).filter { $0.action == "delegated-send" }.count
    }
}
