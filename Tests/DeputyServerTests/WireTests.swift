import DeputyCore
import DeputyProtocol
import DeputyServer
import Foundation
import Testing

/// The daemon driven through real connections: TLS for the rules, plaintext for the rest.
@Suite("The daemon over the wire")
struct WireTests {
    /// An alias names the same account: changing one's own password through it proves the
    /// old one as through the primary address.
    @Test("PASSWD of one's own account through an alias needs the old password")
    func ownPasswordThroughAnAlias() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.plainClient()
        #expect(try await admin.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["OK bound as admin@example.test"])
        #expect(try await admin.send("ADD USER alice@example.test password=pw-alice aliases=a.smith@example.test").last?.hasPrefix("OK") == true)
        let alice = try await server.plainClient()
        #expect(try await alice.send("BIND alice@example.test pw-alice") == ["OK bound as alice@example.test"])
        let needsOld = "ERR reauth [own-entries-only] changing your own password needs old=<current password>"
        #expect(try await alice.send("PASSWD alice@example.test new=pw-alice-2") == [needsOld])
        #expect(try await alice.send("PASSWD A.Smith@example.test new=pw-alice-2") == [needsOld])
        let changed = try await alice.send("PASSWD a.smith@example.test old=pw-alice new=pw-alice-2")
        #expect(changed.first?.hasPrefix("OK password of alice@example.test changed (revision ") == true, "\(changed)")
    }

    /// A refused change is audited with its rule, as every other: refused in the session
    /// before the directory saw it, it left no record. And only old= proves the password
    /// for this: not the window that BIND or REAUTH opens (protocol.md), or anyone at a
    /// session left open could lock its owner out.
    @Test("PASSWD of one's own account without old= is refused by the directory's rule and audited, even just after REAUTH")
    func ownPasswordNeedsOldEvenAfterReauthentication() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        #expect(try await admin.send("ADD USER alice@example.test password=pw-alice").last?.hasPrefix("OK") == true)
        let alice = try await server.boundClient("alice@example.test", password: "pw-alice")
        #expect(try await alice.send("REAUTH pw-alice") == ["OK re-authenticated for 5 minutes"])
        let refused = try await alice.send("PASSWD alice@example.test new=pw-alice-2")
        #expect(refused == ["ERR reauth [own-entries-only] changing your own password needs old=<current password>"], "\(refused)")
        let audit = try await admin.send("AUDIT actor=alice@example.test limit=1")
        #expect(audit.first?.contains("action=set-password target=alice@example.test") == true, "\(audit)")
        #expect(audit.first?.contains("result=reauth rule=own-entries-only") == true, "\(audit)")

        let changed = try await alice.send("PASSWD alice@example.test old=pw-alice new=pw-alice-2")
        #expect(changed.first?.hasPrefix("OK password of alice@example.test changed (revision ") == true, "\(changed)")
        let again = try await server.plainClient()
        #expect(try await again.send("BIND alice@example.test pw-alice-2") == ["OK bound as alice@example.test"])
        try await server.stop()
    }

    /// A blocked account can do nothing (protocol.md): its open session is refused every
    /// query and change, and WHOAMI too, which otherwise told it that it was freshly
    /// re-authenticated. Unblocked, the same session answers again.
    @Test("WHOAMI in the open session of an account blocked since is refused as every query is")
    func whoamiOfABlockedAccount() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        #expect(try await admin.send("ADD USER alice@example.test password=pw-alice").last?.hasPrefix("OK") == true)
        let alice = try await server.boundClient("alice@example.test", password: "pw-alice")
        #expect(try await alice.send("WHOAMI").first?.hasPrefix("* login=alice@example.test kind=user") == true)
        #expect(try await admin.send("MODIFY USER alice@example.test blocked=yes").last?.hasPrefix("OK") == true)
        #expect(try await alice.send("WHOAMI") == ["ERR denied [blocked-account] the account is blocked"])
        #expect(try await alice.send("QUERY MAILBOXES alice@example.test") == ["ERR denied [blocked-account] the account is blocked"])
        #expect(try await admin.send("MODIFY USER alice@example.test blocked=no").last?.hasPrefix("OK") == true)
        #expect(try await alice.send("WHOAMI").first?.hasPrefix("* login=alice@example.test kind=user") == true)
        try await server.stop()
    }

    /// A filter is an oracle: were it matched against attributes a user may not see, a
    /// user could learn them a character at a time from the count of entries.
    @Test("a search filter matches only what the caller may see of each entry")
    func searchFiltersSeeWhatTheCallerSees() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.plainClient()
        #expect(try await admin.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["OK bound as admin@example.test"])
        #expect(try await admin.send("ADD USER alice@example.test password=pw-alice").last?.hasPrefix("OK") == true)
        #expect(try await admin.send("ADD USER carol@example.test password=pw-carol recovery=carol@home.test").last?.hasPrefix("OK") == true)
        let probe = "QUERY SEARCH \"(&(mail=carol@example.test)(recoveryaddress=carol*))\""
        #expect(try await admin.send(probe).last == "OK 1 entries")
        let alice = try await server.plainClient()
        #expect(try await alice.send("BIND alice@example.test pw-alice") == ["OK bound as alice@example.test"])
        #expect(try await alice.send(probe) == ["OK 0 entries"])
        #expect(try await alice.send("QUERY SEARCH \"(&(mail=carol@example.test)(recoveryaddress=*))\"") == ["OK 0 entries"])
        // The entry itself is found; its own user sees the attribute.
        #expect(try await alice.send("QUERY SEARCH \"(mail=carol@example.test)\"").last == "OK 1 entries")
        let carol = try await server.plainClient()
        #expect(try await carol.send("BIND carol@example.test pw-carol") == ["OK bound as carol@example.test"])
        #expect(try await carol.send(probe).last == "OK 1 entries")
        // The same, where the filter is matched on every entry in turn rather than on the
        // one the index finds.
        let scanned = "QUERY SEARCH \"(recoveryaddress=carol*)\""
        #expect(try await admin.send(scanned).last == "OK 1 entries")
        #expect(try await alice.send(scanned) == ["OK 0 entries"])
        #expect(try await carol.send(scanned).last == "OK 1 entries")
    }

    @Test("greeting, BIND, every verb family, over TLS")
    func everyVerbOverTLS() async throws {
        let server = try await TestServer.launch()
        let client = try await server.tlsClient()
        #expect(client.greeting == "OK deputyd \(DeputyVersion.current) ready")
        #expect(try await client.send("PING") == ["OK pong"])
        #expect(try await client.send("WHOAMI") == ["ERR auth BIND first"])
        #expect(try await client.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["OK bound as admin@example.test"])
        let script: [(String, String)] = [
            ("ADD DOMAIN acme.test", "OK domain acme.test added"),
            ("ADD USER alice@example.test password=pw-alice name=\"Alice Smith\" aliases=a.smith@example.test", "OK user alice@example.test added"),
            ("ADD USER bob@example.test password=pw-bob", "OK user bob@example.test added"),
            ("ADD USER carol@acme.test password=pw-carol recovery=carol@home.test", "OK user carol@acme.test added"),
            ("ADD GROUP team@example.test name=Team members=bob@example.test,carol@acme.test sendas=yes", "OK organization group team@example.test added"),
            ("ADD SERVICE postfix password=pw-postfix", "OK service account postfix added"),
            ("ADD POLICY locked delegation=off", "OK policy locked added"),
            ("MODIFY USER bob@example.test addalias=robert@example.test name=Robert", "OK user bob@example.test updated"),
            ("MODIFY GROUP team@example.test delmember=carol@acme.test", "OK group team@example.test updated"),
            ("MODIFY POLICY locked delegation=on", "OK policy locked updated"),
            ("MODIFY SPAM blocksender=spammer@bad.test spf=reject", "OK spam control updated"),
            ("MODIFY ORG name=\"Example Ltd\" orggroups=all", "OK organisation updated"),
            ("DELEGATE alice@example.test bob@example.test read,sendas expires=2027-01-01T00:00:00Z", "OK alice@example.test delegated to bob@example.test with read,sendas"),
            ("DELEGATE alice@example.test team@example.test manage", "OK alice@example.test delegated to team@example.test with read,manage"),
            ("GRANT helpdesk carol@acme.test", "OK helpdesk granted to carol@acme.test"),
            ("GRANT admin bob@example.test", "OK bob@example.test is now an administrator"),
            ("REVOKE admin bob@example.test", "OK bob@example.test is now a user"),
            ("PASSWD bob@example.test new=pw-bob-2", "OK password of bob@example.test changed"),
            ("MODIFY USER carol@acme.test blocked=yes", "OK carol@acme.test blocked"),
            ("MODIFY USER carol@acme.test blocked=no", "OK carol@acme.test unblocked"),
        ]
        // Every change answers with the revision it made: the organisation is revision 1.
        for (index, (line, expected)) in script.enumerated() {
            #expect(try await client.send(line) == ["\(expected) (revision \(index + 2))"], "\(line)")
        }
        #expect(try await client.send("QUERY SENDAS bob@example.test A.Smith@Example.TEST") == ["* allowed=yes via=delegation from=alice@example.test grant=7", "OK"])
        #expect(try await client.send("QUERY SENDONBEHALF bob@example.test alice@example.test") == ["* allowed=yes via=delegation from=alice@example.test grant=7", "OK"])
        #expect(try await client.send("QUERY SENDAS alice@example.test team@example.test") == ["* allowed=no via=none reason=lacks-permission", "OK"])
        #expect(try await client.send("QUERY SENDAS bob@example.test team@example.test") == ["* allowed=yes via=group group=team@example.test", "OK"])
        #expect(try await client.send("QUERY ACCESS bob@example.test alice@example.test") == ["* mailbox=alice@example.test owner=no permissions=read,manage,sendas grants=7,8 via=team@example.test", "OK"])
        #expect(try await client.send("QUERY MAILBOXES bob@example.test") == [
            "* mailbox=bob@example.test owner=yes permissions=read,manage,sendonbehalf,sendas",
            "* mailbox=alice@example.test owner=no permissions=read,manage,sendas grants=7,8 via=team@example.test", "OK 2 mailboxes",
        ])
        #expect(try await client.send("QUERY SENDERS alice@example.test") == [
            "* login=alice@example.test allowed=yes via=own", "* login=bob@example.test allowed=yes via=delegation from=alice@example.test grant=7", "OK 2 senders",
        ])
        let delegates = try await client.send("QUERY DELEGATES alice@example.test")
        #expect(delegates.count == 3)
        #expect(delegates.first == "* id=7 mailbox=alice@example.test delegate=bob@example.test kind=user permissions=read,sendas granted-by=admin@example.test granted-at=2026-11-23T10:00:00Z expires=2027-01-01T00:00:00Z active=yes")
        #expect(try await client.send("QUERY PRIVILEGES carol@acme.test") == ["* user=carol@acme.test role=user customroles=helpdesk blocked=no privileges=block-accounts,delegate-own-mailbox,read-audit,recovery-addresses", "OK"])
        #expect(try await client.send("QUERY MEMBERS team@example.test") == ["* member=bob@example.test kind=user blocked=no", "OK 1 members"])
        let carol = try await client.send("QUERY ENTRY \"uid=carol,ou=users,dc=acme,dc=test\"")
        #expect(carol.first?.contains("recoveryaddress=carol@home.test") == true, "\(carol)")
        #expect(try await client.send("QUERY DELEGATIONS").last == "OK 2 delegations")
        #expect(try await client.send("QUERY SEARCH \"(&(objectClass=person)(mail=*@example.test))\" limit=2") .last == "OK 2 entries, truncated at the limit")
        #expect(try await client.send("QUERY SPAM") == ["* allowsenders=\"\" blocksenders=spammer@bad.test allowdomains=\"\" blockdomains=\"\" spf=reject dkim=markspam dmarc=quarantine dnsbl=reject", "OK"])
        #expect(try await client.send("QUERY ORG").first?.contains("o=\"Example Ltd\"") == true)
        let audit = try await client.send("AUDIT actor=admin@example.test limit=2")
        #expect(audit == [
            "* seq=21 time=2026-11-23T10:00:00Z actor=admin@example.test action=unblock-user target=carol@acme.test result=ok",
            "* seq=20 time=2026-11-23T10:00:00Z actor=admin@example.test action=block-user target=carol@acme.test result=ok", "OK 2 records",
        ])
        #expect(try await client.send("UNDELEGATE alice@example.test team@example.test") == ["OK delegation of alice@example.test to team@example.test removed (revision 22)"])
        #expect(try await client.send("DELETE GROUP team@example.test") == ["OK group team@example.test deleted (revision 23)"])
        #expect(try await client.send("DELETE SERVICE postfix") == ["OK service account postfix deleted (revision 24)"])
        #expect(try await client.send("DELETE POLICY locked") == ["OK policy locked deleted (revision 25)"])
        #expect(try await client.send("DELETE USER carol@acme.test") == ["OK user carol@acme.test deleted (revision 26)"])
        #expect(try await client.send("DELETE DOMAIN acme.test") == ["OK domain acme.test removed (revision 27)"])
        // The test server runs the daemon's durable store, as deputyd does.
        #expect(try await client.send("SNAPSHOT").first?.hasPrefix("OK snapshot written at sequence ") == true)
        #expect(try await client.send("QUIT") == ["OK bye"])
        #expect(try await client.readLine() == nil)
        try await server.stop()
    }

    @Test("the seed rules through the wire: transfer, custom-role scope, policy")
    func rulesThroughTheWire() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        for line in [
            "ADD USER deputy@example.test password=pw-deputy", "GRANT admin deputy@example.test",
            "ADD USER manager@example.test password=pw-manager", "GRANT usermanagement manager@example.test",
            "ADD USER user@example.test password=pw-user", "ADD USER other@example.test password=pw-other",
            "ADD POLICY nodelegation delegation=off",
        ] {
            #expect(try await admin.send(line).last?.hasPrefix("OK") == true, "\(line)")
        }
        // The transfer needs a re-authentication within five minutes.
        server.clock.advance(by: 301)
        #expect(try await admin.send("GRANT superadmin deputy@example.test") == ["ERR reauth [superadmin-transfer] re-authenticate within the last 5 minutes to transfer the super administrator role"])
        #expect(try await admin.send("REAUTH wrong") == ["ERR auth invalid credentials"])
        #expect(try await admin.send("REAUTH \"\(TestServer.adminPassword)\"") == ["OK re-authenticated for 5 minutes"])
        #expect(try await admin.send("GRANT superadmin user@example.test") == ["ERR denied [superadmin-transfer] the new super administrator must already be an administrator (custom administrators and users are not eligible)"])
        #expect(try await Self.status(admin.send("GRANT superadmin deputy@example.test")) == "OK deputy@example.test is now the super administrator; admin@example.test is an administrator")
        #expect(try await admin.send("WHOAMI").first?.contains("role=admin") == true)

        // A custom administrator out of scope.
        let manager = try await server.boundClient("manager@example.test", password: "pw-manager")
        #expect(try await Self.status(manager.send("ADD USER new@example.test password=pw-new")) == "OK user new@example.test added")
        #expect(try await manager.send("MODIFY SPAM spf=none") == ["ERR denied [custom-role-scope] changing spam control is outside the custom administrator roles held"])
        #expect(try await manager.send("PASSWD admin@example.test new=stolen") == ["ERR denied [authority-order] a custom administrator may not change the password of an administrator (admin@example.test): only accounts below one's own"])

        // A user delegating with delegation switched off by policy.
        let user = try await server.boundClient("user@example.test", password: "pw-user")
        #expect(try await Self.status(user.send("DELEGATE user@example.test other@example.test read")) == "OK user@example.test delegated to other@example.test with read")
        #expect(try await Self.status(admin.send("MODIFY USER user@example.test policy=nodelegation")) == "OK user user@example.test updated")
        #expect(try await user.send("DELEGATE user@example.test other@example.test read,sendas") == ["ERR policy [mailbox-delegation] your email policy does not allow mailbox delegation"])
        #expect(try await user.send("DELEGATE other@example.test user@example.test read") == ["ERR denied [mailbox-delegation] users may delegate only their own mailbox"])
        #expect(try await user.send("QUERY DELEGATIONS") == ["ERR denied [mailbox-delegation] only administrators list every delegation"])
        #expect(try await user.send("QUERY SENDAS other@example.test user@example.test") == ["ERR denied [own-entries-only] users may ask only about themselves"])
        // A user changes their own password only with the old one.
        #expect(try await user.send("PASSWD user@example.test new=pw-user-2") == ["ERR reauth [own-entries-only] changing your own password needs old=<current password>"])
        #expect(try await user.send("PASSWD user@example.test old=wrong new=pw-user-2") == ["ERR auth invalid credentials"])
        #expect(try await Self.status(user.send("PASSWD user@example.test old=pw-user new=pw-user-2")) == "OK password of user@example.test changed")
        let again = try await server.plainClient()
        #expect(try await again.send("BIND user@example.test pw-user-2") == ["OK bound as user@example.test"])
        try await server.stop()
    }

    /// The one status line of a change's reply without its revision, checked to be there:
    /// where the revision depends on how many refusals and failed logins came before.
    static func status(_ reply: [String]) -> String? {
        guard reply.count == 1, let open = reply[0].range(of: " (revision ", options: .backwards), reply[0].hasSuffix(")"),
            UInt64(reply[0][open.upperBound...].dropLast()) != nil
        else { return reply.first }
        return String(reply[0][..<open.lowerBound])
    }

    @Test("lines pipelined behind a BIND are read with the limit BIND sets, also when the client has already closed its side")
    func pipelinedBehindBind() async throws {
        let server = try await TestServer.launch()
        let long = "MODIFY ORG name=" + String(repeating: "x", count: 10_000)
        for halfClose in [false, true] {
            let socket = try RawSocket(port: server.plainPort)
            #expect(socket.readLine()?.hasPrefix("OK deputyd") == true)
            socket.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\n\(long)\nPING\nBIND admin@example.test wrong\n\(long)\nPING\n")
            if halfClose { socket.shutdownWrite() }
            #expect(socket.readLine() == "OK bound as admin@example.test", "half-closed: \(halfClose)")
            #expect(socket.readLine()?.hasPrefix("ERR invalid") == true, "half-closed: \(halfClose)")
            #expect(socket.readLine() == "OK pong", "half-closed: \(halfClose)")
            // A failed BIND leaves the session bound as before, with its limit.
            #expect(socket.readLine()?.hasPrefix("ERR auth") == true, "half-closed: \(halfClose)")
            #expect(socket.readLine()?.hasPrefix("ERR invalid") == true, "half-closed: \(halfClose)")
            #expect(socket.readLine() == "OK pong", "half-closed: \(halfClose)")
            if halfClose { #expect(socket.isClosed(milliseconds: 10_000)) }
        }
        // Before any BIND succeeds, the limit before authentication holds, behind a failed BIND too.
        let socket = try RawSocket(port: server.plainPort)
        #expect(socket.readLine()?.hasPrefix("OK deputyd") == true)
        socket.send("BIND admin@example.test wrong\n\(long)\nPING\n")
        #expect(socket.readLine()?.hasPrefix("ERR auth") == true)
        #expect(socket.readLine() == "ERR limit line longer than 8192 bytes")
        #expect(socket.isClosed(milliseconds: 10_000))
        try await server.stop()
    }

    @Test("policies are listed; the audit log can be followed from a sequence number")
    func policiesAndFollowingTheAudit() async throws {
        let server = try await TestServer.launch()
        let client = try await server.boundClient()
        #expect(try await client.send("ADD POLICY strict delegation=off") == ["OK policy strict added (revision 2)"])
        #expect(try await client.send("QUERY POLICIES") == ["* policy=default delegation=on default=yes", "* policy=strict delegation=off default=no", "OK 2 policies"])
        #expect(try await client.send("AUDIT after=1") == ["* seq=2 time=2026-11-23T10:00:00Z actor=admin@example.test action=add-policy target=strict detail=delegation=false result=ok", "OK 1 records"])
        #expect(try await client.send("AUDIT after=2") == ["OK 0 records"])
        // Sequences grow past nine digits; one past 64 bits is refused.
        #expect(try await client.send("AUDIT after=1000000000") == ["OK 0 records"])
        let page = try await client.send("AUDIT after=0 before=2")
        #expect(page.count == 2 && page[0].hasPrefix("* seq=1 ") && page[1] == "OK 1 records", "\(page)")
        #expect(try await client.send("AUDIT after=18446744073709551616").first?.hasPrefix("ERR syntax after must be a sequence number") == true)
        try await server.stop()
    }

    @Test("1,000 pipelined requests come back as 1,000 replies in order")
    func pipelining() async throws {
        let server = try await TestServer.launch()
        let client = try await server.boundClient()
        var batch = ""
        for i in 0..<1_000 {
            batch += i % 2 == 0 ? "PING\n" : "QUERY SENDAS admin@example.test user\(i)@example.test\n"
        }
        try await client.write(batch)
        for i in 0..<1_000 {
            let reply = try await client.readReply()
            #expect(reply == (i % 2 == 0 ? ["OK pong"] : ["* allowed=no via=unknown-address reason=unknown-address", "OK"]), "reply \(i)")
        }
        try await server.stop()
    }

    @Test("bad input gets a clear error and the session goes on")
    func badInput() async throws {
        let server = try await TestServer.launch()
        let client = try await server.boundClient()
        #expect(try await client.send("FROBNICATE") == ["ERR unknown unknown verb FROBNICATE"])
        #expect(try await client.send("ADD MAILBOX x") == ["ERR unknown unknown ADD subverb MAILBOX"])
        #expect(try await client.send("BIND a b c") == ["ERR syntax wrong number of arguments; usage: BIND <login> [password]"])
        // One argument is a bind by client certificate, which this connection has not got.
        #expect(try await client.send("BIND onlyone") == ["ERR auth invalid credentials"])
        #expect(try await client.send("ADD USER \"unterminated") .first?.hasPrefix("ERR syntax unterminated quoted string") == true)
        #expect(try await client.send("ADD USER not-an-address") == ["ERR invalid the address is not a valid mail address"])
        #expect(try await client.send("DELEGATE admin@example.test nobody@example.test read") == ["ERR notfound no user or group has the address nobody@example.test"])
        #expect(try await client.send("DELEGATE admin@example.test admin@example.test write") == ["ERR invalid permissions is a comma list of read, manage, sendonbehalf, sendas"])
        #expect(try await client.send("QUERY SEARCH \"(mail=\"") == ["ERR syntax filter: expected ')' at offset 6"])
        try await client.write("PING \u{0}\n")
        #expect(try await client.readReply().first?.hasPrefix("ERR syntax") == true)
        #expect(try await client.send("PING") == ["OK pong"])
        try await server.stop()
    }

    @Test("QUERY DELEGATES as a mail server sends it: a service and administrators ask about any mailbox in any case, a user only about their own, an unknown address is named as sent")
    func delegatesForEachPrincipal() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.plainClient()
        _ = try await admin.send("BIND admin@example.test \"\(TestServer.adminPassword)\"")
        for line in [
            "ADD USER alice@example.test password=pw-alice", "ADD USER bob@example.test password=pw-bob",
            "ADD SERVICE lookup password=pw-lookup", "DELEGATE alice@example.test bob@example.test read,sendas",
            // Longer than an address index entry holds inline (32 bytes).
            "ADD USER a.mailbox.with.a.long.local.part@example.test password=pw-long",
            "ADD USER and.a.delegate.longer.than.that@example.test password=pw-long-2",
            "DELEGATE a.mailbox.with.a.long.local.part@example.test and.a.delegate.longer.than.that@example.test read",
        ] {
            #expect(try await admin.send(line).first?.hasPrefix("OK") == true, "\(line)")
        }
        let record = "* id=5 mailbox=alice@example.test delegate=bob@example.test kind=user permissions=read,sendas granted-by=admin@example.test granted-at=2026-11-23T10:00:00Z active=yes"
        let service = try await server.plainClient()
        #expect(try await service.send("BIND lookup pw-lookup") == ["OK bound as lookup"])
        for client in [admin, service] {
            #expect(try await client.send("QUERY DELEGATES ALICE@Example.test") == [record, "OK 1 delegates"])
            #expect(try await client.send("QUERY DELEGATES bob@example.test") == ["OK 0 delegates"])
            #expect(try await client.send("QUERY DELEGATES Nobody@example.test") == ["ERR notfound no user has the address Nobody@example.test"])
            let long = try await client.send("QUERY DELEGATES A.Mailbox.With.A.Long.Local.Part@example.test")
            #expect(long.count == 2 && long[0].hasPrefix("* id=8 mailbox=a.mailbox.with.a.long.local.part@example.test delegate=and.a.delegate.longer.than.that@example.test kind=user permissions=read "), "\(long)")
        }
        let bob = try await server.plainClient()
        #expect(try await bob.send("BIND bob@example.test pw-bob") == ["OK bound as bob@example.test"])
        #expect(try await bob.send("QUERY DELEGATES alice@example.test") == ["ERR denied [mailbox-delegation] only administrators see the delegations of another user's mailbox"])
        let alice = try await server.plainClient()
        #expect(try await alice.send("BIND alice@example.test pw-alice") == ["OK bound as alice@example.test"])
        #expect(try await alice.send("QUERY DELEGATES alice@example.test") == [record, "OK 1 delegates"])
    }

    @Test("QUERY DELEGATES names a granter as the directory does now, on a connection that named them before")
    func granterNamedAfterChange() async throws {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        for line in [
            "ADD USER deputy@example.test password=pw-deputy", "GRANT admin deputy@example.test",
            "ADD USER ann@example.test", "ADD USER ben@example.test", "ADD USER cal@example.test",
        ] {
            #expect(try await admin.send(line).last?.hasPrefix("OK") == true, "\(line)")
        }
        let deputy = try await server.boundClient("deputy@example.test", password: "pw-deputy")
        #expect(try await deputy.send("DELEGATE ann@example.test ben@example.test read").last?.hasPrefix("OK") == true)
        #expect(try await admin.send("DELEGATE ann@example.test cal@example.test read").last?.hasPrefix("OK") == true)
        func granters(_ reply: [String]) -> [String] {
            reply.dropLast().compactMap { line in line.split(separator: " ").first { $0.hasPrefix("granted-by=") }.map { String($0.dropFirst(11)) } }
        }
        // Twice on one connection: the second answer names the granters as the first did.
        for _ in 0..<2 {
            #expect(granters(try await admin.send("QUERY DELEGATES ann@example.test")) == ["deputy@example.test", "admin@example.test"])
        }
        // The granter is gone: the next answer on the same connection says so.
        #expect(try await admin.send("REVOKE admin deputy@example.test").last?.hasPrefix("OK") == true)
        #expect(try await admin.send("DELETE USER deputy@example.test").last?.hasPrefix("OK") == true)
        let after = granters(try await admin.send("QUERY DELEGATES ann@example.test"))
        #expect(after.count == 2 && after[0].hasPrefix("user#") && after[1] == "admin@example.test", "\(after)")
        try await server.stop()
    }

    @Test("offset= pages SEARCH and DELEGATIONS past the listing limit; a bad offset is a syntax error")
    func paging() async throws {
        var limits = ServerLimits()
        limits.maximumListing = 3
        let server = try await TestServer.launch(limits: limits)
        let client = try await server.boundClient()
        let names = (1...7).map { "user\($0)@example.test" }
        for (index, name) in names.enumerated() {
            #expect(try await client.send("ADD USER \(name)") == ["OK user \(name) added (revision \(index + 2))"])
        }
        // The stable order: users as they were added, then the organisation.
        let expected = (["admin@example.test"] + names).map { "dn=uid=\($0.prefix { $0 != "@" }),ou=users,dc=example,dc=test" } + ["dn=dc=example,dc=test"]
        func dns(_ reply: [String]) -> [String] {
            reply.dropLast().map { String($0.dropFirst(2).prefix { $0 != " " }) }
        }
        var read: [String] = []
        var statuses: [String] = []
        while true {
            let reply = try await client.send("QUERY SEARCH \"(objectclass=*)\"" + (read.isEmpty ? "" : " offset=\(read.count)"))
            read += dns(reply)
            statuses.append(reply.last ?? "")
            guard reply.last?.hasSuffix("truncated at the limit") == true else { break }
        }
        #expect(read == expected)
        #expect(statuses == ["OK 3 entries, truncated at the limit", "OK 3 entries, truncated at the limit", "OK 3 entries"])
        // With limit=, and past the end.
        #expect(dns(try await client.send("QUERY SEARCH \"(objectclass=person)\" limit=2 offset=3")) == Array(expected[3..<5]))
        #expect(try await client.send("QUERY SEARCH \"(objectclass=person)\" limit=2 offset=3").last == "OK 2 entries, truncated at the limit")
        let tail = try await client.send("QUERY SEARCH \"(objectclass=person)\" offset=6")
        #expect(tail == [
            "* " + expected[6] + " objectclass=top objectclass=person objectclass=inetorgperson objectclass=deputyuser uid=user6 mail=user6@example.test cn=user6 displayname=user6 role=user blocked=no createtimestamp=2026-11-23T10:00:00Z",
            "* " + expected[7] + " objectclass=top objectclass=person objectclass=inetorgperson objectclass=deputyuser uid=user7 mail=user7@example.test cn=user7 displayname=user7 role=user blocked=no createtimestamp=2026-11-23T10:00:00Z",
            "OK 2 entries",
        ])
        #expect(try await client.send("QUERY SEARCH \"(objectclass=*)\" offset=9") == ["OK 0 entries"])
        #expect(try await client.send("QUERY SEARCH \"(objectclass=*)\" offset=0").last == "OK 3 entries, truncated at the limit")
        // The next page after a change is read from the changed directory, as offset= says
        // (a session goes on from where its last page stopped only in the same version).
        let some = "QUERY SEARCH \"(|(cn=user2)(cn=user4)(cn=user6))\" limit=1"
        #expect(dns(try await client.send(some)) == [expected[2]])
        #expect(try await client.send("DELETE USER user3@example.test").last?.hasPrefix("OK") == true)
        #expect(dns(try await client.send(some + " offset=1")) == [expected[4]])
        #expect(dns(try await client.send(some + " offset=2")) == [expected[6]])
        // A page that overlaps the last by an entry, as deputy export asks.
        let two = "QUERY SEARCH \"(|(cn=user2)(cn=user4)(cn=user6))\" limit=2"
        #expect(dns(try await client.send(two)) == [expected[2], expected[4]])
        #expect(dns(try await client.send(two + " offset=1")) == [expected[4], expected[6]])
        // Another filter at the offset the last page ended at starts afresh.
        #expect(dns(try await client.send("QUERY SEARCH \"(cn=user7)\" limit=1 offset=3")) == [])
        #expect(try await client.send("ADD USER user3@example.test").last?.hasPrefix("OK") == true)

        // An address pins the search to the index; the offset applies there too.
        #expect(try await client.send("QUERY SEARCH \"(mail=user1@example.test)\" offset=1") == ["OK 0 entries"])

        // Delegations, in the order they were made.
        for name in names.dropFirst() {
            #expect(try await client.send("DELEGATE \(names[0]) \(name) read").last?.hasPrefix("OK") == true)
        }
        func delegates(_ reply: [String]) -> [String] {
            reply.dropLast().compactMap { line in line.split(separator: " ").first { $0.hasPrefix("delegate=") }.map { String($0.dropFirst(9)) } }
        }
        let first = try await client.send("QUERY DELEGATIONS")
        #expect(first.last == "OK 3 of 6 delegations, truncated at the limit")
        let second = try await client.send("QUERY DELEGATIONS offset=3")
        #expect(second.last == "OK 3 delegations")
        #expect(delegates(first) + delegates(second) == Array(names.dropFirst()))
        #expect(delegates(try await client.send("QUERY DELEGATIONS offset=5")) == [names[6]])
        #expect(try await client.send("QUERY DELEGATIONS offset=6") == ["OK 0 delegations"])
        // A mailbox's delegates are cut at the same limit, the first ones kept.
        let mailboxDelegates = try await client.send("QUERY DELEGATES \(names[0])")
        #expect(mailboxDelegates.last == "OK 3 of 6 delegates, truncated at the limit")
        #expect(delegates(mailboxDelegates) == Array(names.dropFirst().prefix(3)))

        // Only 1 to 9 decimal digits.
        for bad in ["-1", "x", "1e3", "1234567890", "\"\"", "+3"] {
            #expect(try await client.send("QUERY DELEGATIONS offset=\(bad)") == ["ERR syntax offset must be a number; usage: QUERY DELEGATIONS [offset=<n>] [revision=<n>]"], "offset=\(bad)")
            #expect(try await client.send("QUERY SEARCH \"(objectclass=*)\" offset=\(bad)") == ["ERR syntax offset must be a number; usage: QUERY SEARCH <filter> [limit=<n>] [offset=<n>] [revision=<n>]"], "offset=\(bad)")
        }
        // Other queries take no offset.
        #expect(try await client.send("QUERY POLICIES offset=1") == ["ERR syntax named argument offset is not allowed; usage: QUERY POLICIES [revision=<n>]"])
        try await server.stop()
    }
}
