import DeputyMailAdapters
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging
import Testing

/// The ACL file Dovecot reads for shared mailboxes, from the mail fixture's directory.
@Suite("Dovecot ACL file")
struct DovecotACLFileTests {
    static func lines(_ directory: Directory, at now: Date = MailFixture.now) -> [String] {
        DovecotACLFile.contents(of: directory, at: now).text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    @Test("read gives lrs, manage gives lrwstipekx, groups are expanded; expired, blocked and send-only delegations give nothing")
    func rightsFollowTheDelegations() {
        #expect(Self.lines(MailFixture.directory()) == [
            "* owner lrwstipekx",
            #""shared/boss@example.test" user=member1@example.test lrwstipekx"#,
            #""shared/boss@example.test/*" user=member1@example.test lrwstipekx"#,
            #""shared/boss@example.test" user=member2@example.test lrwstipekx"#,
            #""shared/boss@example.test/*" user=member2@example.test lrwstipekx"#,
            #""shared/boss@example.test" user=reader@example.test lrs"#,
            #""shared/boss@example.test/*" user=reader@example.test lrs"#,
            #""shared/boss@example.test" user=secretary@example.test lrs"#,
            #""shared/boss@example.test/*" user=secretary@example.test lrs"#,
            // gone@ is blocked, but its delegate still opens its mailbox, as QUERY MAILBOXES says.
            #""shared/gone@example.test" user=secretary@example.test lrs"#,
            #""shared/gone@example.test/*" user=secretary@example.test lrs"#,
        ])
    }

    @Test("a delegation's end takes its lines out: undelegated, the delegate blocked, the owner deleted, a member leaving, an expiry")
    func linesGoWithTheDelegation() throws {
        var directory = MailFixture.directory()
        func apply(_ command: Command) {
            #expect(throws: Never.self) { try directory.apply(command, context: CommandContext(actor: .system, time: MailFixture.now)).get() }
        }
        apply(.undelegate(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("reader@example.test")))
        apply(.setBlocked(MailFixture.address("secretary@example.test"), true))
        apply(.modifyGroup(MailFixture.address("team@example.test"), GroupChanges(removeMembers: [MailFixture.address("member2@example.test")])))
        #expect(Self.lines(directory) == [
            "* owner lrwstipekx",
            #""shared/boss@example.test" user=member1@example.test lrwstipekx"#,
            #""shared/boss@example.test/*" user=member1@example.test lrwstipekx"#,
        ])
        apply(.deleteUser(MailFixture.address("boss@example.test")))
        #expect(Self.lines(directory) == ["* owner lrwstipekx"])

        // An expiring delegation is in the file until the second it expires, and the file
        // says when it must be written again.
        apply(.delegate(NewDelegation(mailbox: MailFixture.address("member1@example.test"), delegate: MailFixture.address("member2@example.test"), permissions: PermissionSet([.read]), expiresAt: MailFixture.now.addingTimeInterval(60))))
        let before = DovecotACLFile.contents(of: directory, at: MailFixture.now)
        #expect(before.nextExpiry == MailFixture.now.addingTimeInterval(60))
        #expect(before.text.contains("user=member2@example.test lrs"))
        #expect(Self.lines(directory, at: MailFixture.now.addingTimeInterval(60)) == ["* owner lrwstipekx"])
    }

    @Test("a group's shared mailbox: in the ACL file and the sharing map under the group's address, out again with the group")
    func groupMailbox() throws {
        var directory = MailFixture.directory()
        func apply(_ command: Command) {
            #expect(throws: Never.self) { try directory.apply(command, context: CommandContext(actor: .system, time: MailFixture.now)).get() }
        }
        apply(.delegate(NewDelegation(mailbox: MailFixture.address("team@example.test"), delegate: MailFixture.address("reader@example.test"), permissions: PermissionSet([.manage]))))
        #expect(Self.lines(directory).filter { $0.contains("team@") } == [
            #""shared/team@example.test" user=reader@example.test lrwstipekx"#,
            #""shared/team@example.test/*" user=reader@example.test lrwstipekx"#,
        ])
        #expect(SharedMailboxMap.lookup("shared/shared-boxes/user/reader@example.test/team@example.test", in: directory, at: MailFixture.now) == "1")
        #expect(SharedMailboxMap.iterate("shared/shared-boxes/user/reader@example.test/", flags: [], limit: 10, in: directory, at: MailFixture.now).map(\.key)
            == ["shared/shared-boxes/user/reader@example.test/boss@example.test", "shared/shared-boxes/user/reader@example.test/team@example.test"])
        apply(.deleteGroup(MailFixture.address("team@example.test")))
        #expect(!Self.lines(directory).contains { $0.contains("team@") })
        #expect(SharedMailboxMap.lookup("shared/shared-boxes/user/reader@example.test/team@example.test", in: directory, at: MailFixture.now) == nil)
    }

    @Test("logins Dovecot would read as wildcards or separators are left out and named")
    func unsafeLoginsAreLeftOut() throws {
        var directory = MailFixture.directory()
        for local in ["a*b", "q?x", "s/l"] {
            _ = try directory.apply(.addUser(NewUser(address: MailFixture.address("\(local)@example.test"), displayName: local, passwordHash: MailFixture.hasher.hash("x"))), context: CommandContext(actor: .system, time: MailFixture.now)).get()
        }
        for (owner, delegate) in [("a*b", "reader"), ("reader", "q?x"), ("s/l", "reader")] {
            _ = try directory.apply(.delegate(NewDelegation(mailbox: MailFixture.address("\(owner)@example.test"), delegate: MailFixture.address("\(delegate)@example.test"), permissions: PermissionSet([.read]))), context: CommandContext(actor: .system, time: MailFixture.now)).get()
        }
        let contents = DovecotACLFile.contents(of: directory, at: MailFixture.now)
        #expect(contents.skipped == ["a*b@example.test", "q?x@example.test", "s/l@example.test"])
        #expect(!contents.text.contains("*b@") && !contents.text.contains("?x@") && !contents.text.contains("s/l@"))
    }

    @Test("the writer replaces the file (0640) when the directory changes or a delegation expires, and only then")
    func writerFollowsTheDirectory() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-acl-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/dovecot-acl"
        let clock = TestClock(MailFixture.now)
        var directory = MailFixture.directory()
        let live = LiveDirectory(directory)
        let writer = DovecotACLWriter(path: path, prefix: "shared/", directory: live, clock: { clock.now }, logger: Logger(label: "test"))
        #expect(try await writer.update())
        #expect(try await !writer.update(), "the same text is not written again")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == DovecotACLFile.contents(of: directory, at: clock.now).text)

        _ = try directory.apply(.delegate(NewDelegation(mailbox: MailFixture.address("member1@example.test"), delegate: MailFixture.address("reader@example.test"), permissions: PermissionSet([.manage]), expiresAt: clock.now.addingTimeInterval(30))), context: CommandContext(actor: .system, time: clock.now)).get()
        live.publish(directory)
        #expect(try await writer.update())
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(#""shared/member1@example.test" user=reader@example.test lrwstipekx"#))
        clock.advance(by: 30)
        #expect(try await writer.update())
        #expect(try !String(contentsOfFile: path, encoding: .utf8).contains("shared/member1@example.test"))
    }

    /// The file is replaced whole at every start: pointed by mistake at a file deputyd did
    /// not write (a hand-kept Dovecot ACL file), it overwrote it without a word.
    @Test("a file at the path that deputyd did not write is left alone, and the start refused")
    func foreignFileIsLeftAlone() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-acl-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/dovecot-acl"
        try Data("INBOX user=alice@example.test lr\n".utf8).write(to: URL(fileURLWithPath: path))
        let live = LiveDirectory(MailFixture.directory())
        let writer = DovecotACLWriter(path: path, prefix: "shared/", directory: live, clock: { MailFixture.now }, logger: Logger(label: "test"))
        do {
            try await writer.update()
            Issue.record("a file deputyd did not write was replaced")
        } catch {
            #expect("\(error)".contains("was not written by deputyd"), "\(error)")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "INBOX user=alice@example.test lr\n")
        // Its own file, and an empty one, it replaces.
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(try await writer.update())
        try await DovecotACLWriter(path: path, prefix: "shared/", directory: live, clock: { MailFixture.now }, logger: Logger(label: "test")).update()
    }
}
