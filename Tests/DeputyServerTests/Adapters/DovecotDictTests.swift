@testable import DeputyServer
@testable import DeputyMailAdapters
import DeputyCore
import Foundation
import Logging
import NIOCore
import Testing

@Suite("Dovecot dict protocol")
struct DovecotDictTests {
    private func command(_ line: String) throws -> DovecotDictCommand {
        try DovecotDictCommand(line: Array(line.utf8))
    }

    @Test("client lines parse, escapes included")
    func lines() throws {
        #expect(try command("H3\t2\t0\t\tacl") == .hello(major: 3, minor: 2, user: "", name: "acl"))
        #expect(try command("H4\t0\t0\tbob\tacl") == .hello(major: 4, minor: 0, user: "bob", name: "acl"))
        #expect(try command("Lshared/k\u{1}t1\tbob") == .lookup(key: "shared/k\t1"))
        #expect(try command("Lshared/k") == .lookup(key: "shared/k"))
        #expect(try command("I1\t0\tshared/shared-boxes/\t") == .iterate(flags: .recurse, maximumRows: 0, path: "shared/shared-boxes/"))
        #expect(try command("I24\t5\tshared/x") == .iterate(flags: [.noValue, .exactKey], maximumRows: 5, path: "shared/x"))
        #expect(try command("B1\t") == .begin(id: "1"))
        #expect(try command("S1\tshared/x\t1") == .change(command: "S", id: "1"))
        #expect(try command("U1\tshared/x") == .change(command: "U", id: "1"))
        #expect(try command("A1\tshared/x\t2") == .change(command: "A", id: "1"))
        #expect(try command("C1") == .commit(id: "1"))
        #expect(try command("D2") == .commit(id: "2"))
        #expect(try command("R1") == .rollback(id: "1"))
        for bad in ["", "H", "Hx\t2", "I0", "Ix\t0\tpath", "I0\t-1\tpath", "Zwhat"] {
            #expect(throws: MailAdapterError.self, "\(bad.debugDescription)") { try command(bad) }
        }
    }

    let directory = MailFixture.directory()

    private func iterate(_ path: String, _ flags: DovecotDictCommand.IterationFlags = [], limit: Int = 100) -> [String] {
        SharedMailboxMap.iterate(path, flags: flags, limit: limit, in: directory, at: MailFixture.now).map { "\($0.key)=\($0.value)" }
    }

    @Test("lookups: read or manage, direct or through a group; not sendas-only, expired or blocked", arguments: [
        ("secretary@example.test/boss@example.test", true), ("Secretary@Example.test/BOSS@example.test", true),
        ("secretary@example.test/gone@example.test", true), ("member1@example.test/boss@example.test", true),
        ("reader@example.test/boss@example.test", true), ("secretary@example.test/reader@example.test", false),
        ("temp@example.test/boss@example.test", false), ("blockeduser@example.test/boss@example.test", false),
        ("boss@example.test/boss@example.test", false), ("secretary@example.test/chief@example.test", false),
        ("ghost@example.test/boss@example.test", false), ("secretary@example.test", false),
    ])
    func lookups(_ pair: String, _ present: Bool) {
        #expect(SharedMailboxMap.lookup("shared/shared-boxes/user/" + pair, in: directory, at: MailFixture.now) == (present ? "1" : nil))
    }

    @Test("other keys are never present")
    func otherKeys() {
        for key in ["shared/shared-boxes/anyone/boss@example.test", "priv/x", "shared/other/secretary@example.test/boss@example.test", ""] {
            #expect(SharedMailboxMap.lookup(key, in: directory, at: MailFixture.now) == nil)
        }
    }

    @Test("iterating one user lists exactly the mailboxes shared with them")
    func iterateUser() {
        #expect(iterate("shared/shared-boxes/user/secretary@example.test/") == [
            "shared/shared-boxes/user/secretary@example.test/boss@example.test=1",
            "shared/shared-boxes/user/secretary@example.test/gone@example.test=1",
        ])
        #expect(iterate("shared/shared-boxes/user/Member2@example.test/") == ["shared/shared-boxes/user/Member2@example.test/boss@example.test=1"])
        #expect(iterate("shared/shared-boxes/user/temp@example.test/").isEmpty)
        #expect(iterate("shared/shared-boxes/user/boss@example.test/").isEmpty)
        #expect(iterate("shared/shared-boxes/user/secretary@example.test/", limit: 1).count == 1)
    }

    @Test("iterating wider lists every pair with recursion, none without")
    func iterateAll() {
        let all = iterate("shared/shared-boxes/", .recurse)
        #expect(all == [
            "shared/shared-boxes/user/member1@example.test/boss@example.test=1",
            "shared/shared-boxes/user/member2@example.test/boss@example.test=1",
            "shared/shared-boxes/user/reader@example.test/boss@example.test=1",
            "shared/shared-boxes/user/secretary@example.test/boss@example.test=1",
            "shared/shared-boxes/user/secretary@example.test/gone@example.test=1",
        ])
        #expect(iterate("shared/shared-boxes/", []).isEmpty)
        #expect(iterate("shared/shared-boxes/user/m", .recurse).count == 2)
        #expect(iterate("shared/shared-boxes/user/reader@example.test/boss@example.test", .exactKey) == ["shared/shared-boxes/user/reader@example.test/boss@example.test=1"])
    }

    @Test("what Dovecot asks at every login: nothing shared with anyone or every authenticated user, this user's shares")
    func loginIterations() {
        for owner in ["anyone/", "authenticated/", "group/team@example.test/", "Anyone/"] {
            #expect(iterate("shared/shared-boxes/" + owner, .recurse).isEmpty, "\(owner)")
        }
        #expect(iterate("shared/shared-boxes/user/secretary@example.test/", .recurse).count == 2)
        #expect(iterate("shared/", .recurse).count == 5, "a path above the map's lists it all")
    }

    @Test("a delegation to a group that holds another group shares the mailbox with the inner group's members")
    func nestedGroups() {
        var nested = directory
        let context = CommandContext(actor: .system, time: MailFixture.now)
        // admin is nobody's delegate but through these groups.
        let inner = nested.apply(.addGroup(NewGroup(
            address: EmailAddress("inner@example.test")!, name: "Inner", kind: .organization, members: [EmailAddress("admin@example.test")!]
        )), context: context)
        let outer = nested.apply(.addGroup(NewGroup(
            address: EmailAddress("outer@example.test")!, name: "Outer", kind: .organization,
            members: [EmailAddress("team@example.test")!, EmailAddress("inner@example.test")!]
        )), context: context)
        let shared = nested.apply(.delegate(NewDelegation(
            mailbox: EmailAddress("gone@example.test")!, delegate: EmailAddress("outer@example.test")!, permissions: PermissionSet([.read])
        )), context: context)
        #expect((try? inner.get()) != nil && (try? outer.get()) != nil && (try? shared.get()) != nil, "\(inner) \(outer) \(shared)")
        #expect(SharedMailboxMap.lookup("shared/shared-boxes/user/member1@example.test/gone@example.test", in: nested, at: MailFixture.now) == "1")
        let all = SharedMailboxMap.iterate("shared/shared-boxes/", flags: .recurse, limit: 100, in: nested, at: MailFixture.now).map(\.key)
        #expect(all.contains("shared/shared-boxes/user/member2@example.test/gone@example.test"), "\(all)")
        #expect(all.contains("shared/shared-boxes/user/admin@example.test/gone@example.test"), "\(all)")
        #expect(SharedMailboxMap.lookup("shared/shared-boxes/user/member1@example.test/gone@example.test", in: directory, at: MailFixture.now) == nil)
    }

    private func makeConversation(ready: Bool = true) throws -> DovecotDictConversation {
        let environment = try MailEnvironmentForTests.make(ready: ready)
        return DovecotDictConversation(environment: environment, limits: MailAdapterLimits(), logger: .init(label: "test"))
    }

    private func run(_ conversation: inout DovecotDictConversation, _ text: String) async throws -> String {
        var input = ByteBuffer(string: text)
        var output = ByteBuffer()
        _ = try await conversation.receive(&input, into: &output)
        return String(buffer: output)
    }

    @Test("a conversation: hello, lookups, an iteration, a refused commit")
    func conversation() async throws {
        var dict = try makeConversation()
        #expect(try await run(&dict, "H3\t2\t0\t\tacl\n") == "")
        #expect(try await run(&dict, "Lshared/shared-boxes/user/reader@example.test/boss@example.test\t\nLshared/nothing\t\n") == "O1\nN\n")
        #expect(try await run(&dict, "I0\t0\tshared/shared-boxes/user/member1@example.test/\t\n") == "Oshared/shared-boxes/user/member1@example.test/boss@example.test\t1\n\n")
        #expect(try await run(&dict, "I8\t0\tshared/shared-boxes/user/member1@example.test/\t\n") == "Oshared/shared-boxes/user/member1@example.test/boss@example.test\t\n\n")
        #expect(try await run(&dict, "B1\t\nS1\tshared/shared-boxes/user/x/y\t1\nA1\tk\t1\nC1\n").hasPrefix("F1\tread-only dict"))
        #expect(try await run(&dict, "B2\nU2\tshared/k\nR2\n") == "")
    }

    @Test("without a hello, or with another major version, the connection closes")
    func hello() async throws {
        var dict = try makeConversation()
        await #expect { try await run(&dict, "Lshared/k\n") } throws: { ($0 as? MailAdapterError)?.code == .malformed }
        var old = try makeConversation()
        await #expect { try await run(&old, "H2\t1\t0\t\tacl\n") } throws: { ($0 as? MailAdapterError)?.code == .unsupportedVersion }
    }

    @Test("while the directory is not ready, lookups and iterations fail, never 'not found'")
    func notReady() async throws {
        var dict = try makeConversation(ready: false)
        #expect(try await run(&dict, "H3\t2\t0\t\tacl\nLshared/shared-boxes/user/a/b\t\nI0\t0\tshared/shared-boxes/user/a/\t\n") == "Fdirectory not ready\nFdirectory not ready\n")
    }

    /// Each change names a transaction, which used to be made on the spot: changes under
    /// ever new ids filled memory past the limit that `B` is held to. Dovecot's own dict
    /// server ends such a connection ("Transaction ID doesn't exist").
    @Test("a change in a transaction that was never begun closes the connection")
    func changeOutsideATransaction() async throws {
        var dict = try makeConversation()
        await #expect { try await run(&dict, "H3\t2\t0\t\tacl\nS7\tshared/x\t1\n") } throws: { ($0 as? MailAdapterError)?.code == .malformed }
        var open = try makeConversation()
        #expect(try await run(&open, "H3\t2\t0\t\tacl\nB7\nS7\tshared/x\t1\nC7\n").hasPrefix("F7\t"))
    }

    @Test("too many open transactions close the connection")
    func transactionLimit() async throws {
        var dict = try makeConversation()
        let begins = (0...MailAdapterDefaults.dictMaximumOpenTransactions).map { "B\($0)\n" }.joined()
        await #expect { try await run(&dict, "H3\t2\t0\t\tacl\n" + begins) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
    }
}
