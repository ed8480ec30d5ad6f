import DeputyCore
import DeputyServer
import Foundation
import Testing

/// Dovecot's own dict client, `doveadm dict`, against the dict listener.
@Suite("doveadm against the dict listener", .serialized)
struct DoveadmTests {
    /// A minimal dovecot.conf: doveadm needs one, and a directory of its own to run in.
    private static func configuration() throws -> String {
        let directory = "/tmp/deputy-dc-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        try "base_dir = \(directory)/run\nlog_path = /dev/stderr\n".write(toFile: directory + "/dovecot.conf", atomically: true, encoding: .utf8)
        return directory
    }

    private static func doveadm(_ directory: String, _ arguments: [String]) async throws -> ExternalTool.Output {
        try await ExternalTool.run("doveadm", ["-c", directory + "/dovecot.conf"] + arguments)
    }

    private static func sharedWith(_ user: String, dict: String, in directory: String) async throws -> [String] {
        let output = try await doveadm(directory, ["dict", "iter", dict, "shared/shared-boxes/user/\(user)/"])
        #expect(output.status == 0, "\(output.stderr)")
        // The first line is doveadm's header, `key value`.
        return output.stdout.split(separator: "\n").dropFirst().map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    }

    @Test("dict get and iter show each user's shared mailboxes, before and after a change")
    func sharedMailboxes() async throws {
        let server = try await MailTestServer.launch()
        let directory = try Self.configuration()
        let dict = "proxy:\(server.dictSocket):acl"

        let found = try await Self.doveadm(directory, ["dict", "get", dict, "shared/shared-boxes/user/Secretary@Example.test/boss@example.test"])
        #expect(found.status == 0 && found.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(found.stdout) \(found.stderr)")
        for missing in ["shared/shared-boxes/user/temp@example.test/boss@example.test", "shared/shared-boxes/user/secretary@example.test/reader@example.test"] {
            let output = try await Self.doveadm(directory, ["dict", "get", dict, missing])
            // Not found, which doveadm words as "doesn't exist", rather than a failed lookup.
            #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(missing): \(output.stdout)")
            #expect(output.stderr.contains("\(missing) doesn't exist") && !output.stderr.contains("failed"), "\(output.stderr)")
        }

        #expect(try await Self.sharedWith("secretary@example.test", dict: dict, in: directory) == [
            "shared/shared-boxes/user/secretary@example.test/boss@example.test 1",
            "shared/shared-boxes/user/secretary@example.test/gone@example.test 1",
        ])
        #expect(try await Self.sharedWith("member1@example.test", dict: dict, in: directory) == ["shared/shared-boxes/user/member1@example.test/boss@example.test 1"])
        #expect(try await Self.sharedWith("temp@example.test", dict: dict, in: directory) == [])
        #expect(try await Self.sharedWith("blockeduser@example.test", dict: dict, in: directory) == [])

        // Changes in the directory show at once: a delegation removed, one given, a group left.
        try await server.commit(.undelegate(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("secretary@example.test")))
        try await server.commit(.delegate(NewDelegation(mailbox: MailFixture.address("member2@example.test"), delegate: MailFixture.address("temp@example.test"), permissions: PermissionSet([.manage]))))
        try await server.commit(.modifyGroup(MailFixture.address("team@example.test"), GroupChanges(removeMembers: [MailFixture.address("member1@example.test")])))
        #expect(try await Self.sharedWith("secretary@example.test", dict: dict, in: directory) == ["shared/shared-boxes/user/secretary@example.test/gone@example.test 1"])
        #expect(try await Self.sharedWith("temp@example.test", dict: dict, in: directory) == ["shared/shared-boxes/user/temp@example.test/member2@example.test 1"])
        #expect(try await Self.sharedWith("member1@example.test", dict: dict, in: directory) == [])
        let gone = try await Self.doveadm(directory, ["dict", "get", dict, "shared/shared-boxes/user/secretary@example.test/boss@example.test"])
        #expect(gone.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && gone.stderr.contains("doesn't exist"), "\(gone.stdout) \(gone.stderr)")

        try? FileManager.default.removeItem(atPath: directory)
        try await server.stop()
    }

    @Test("set, unset and inc fail, and change nothing")
    func readOnly() async throws {
        let server = try await MailTestServer.launch()
        let directory = try Self.configuration()
        let dict = "proxy:\(server.dictSocket):acl"
        let revision = server.committer.live.directory.revision
        let attempts = [
            ["dict", "set", dict, "shared/shared-boxes/user/reader@example.test/member1@example.test", "1"],
            ["dict", "unset", dict, "shared/shared-boxes/user/secretary@example.test/boss@example.test"],
            ["dict", "inc", dict, "shared/shared-boxes/user/secretary@example.test/boss@example.test", "1"],
        ]
        for attempt in attempts {
            let output = try await Self.doveadm(directory, attempt)
            #expect(output.status != 0, "\(attempt[1]) succeeded")
            #expect(output.stderr.contains("read-only dict"), "\(output.stderr)")
        }
        #expect(server.committer.live.directory.revision == revision)
        #expect(try await Self.sharedWith("reader@example.test", dict: dict, in: directory) == ["shared/shared-boxes/user/reader@example.test/boss@example.test 1"])
        #expect(try await Self.sharedWith("secretary@example.test", dict: dict, in: directory).count == 2)
        try? FileManager.default.removeItem(atPath: directory)
        try await server.stop()
    }
}
