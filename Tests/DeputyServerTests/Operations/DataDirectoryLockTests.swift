import CoreFoundation
import Foundation
import Glibc
import Testing

/// One data directory, one daemon: a second `deputyd` (or `init`, or `restore`) on a data
/// directory in use is refused before it reads or writes anything, and the first one loses
/// nothing; `check` and `backup` read beside it.
@Suite("Data directory lock", .serialized)
struct DataDirectoryLockTests {
    /// What a refused process could have touched: the snapshot, and the journal's inode and bytes.
    private struct Files: Equatable {
        let snapshot: Data?
        let journalInode: UInt64
        let journal: Data?

        init(_ data: String) throws {
            snapshot = FileManager.default.contents(atPath: data + "/snapshot.json")
            guard let inode = (try? FileManager.default.attributesOfItem(atPath: data + "/journal.log"))?[.systemFileNumber] as? NSNumber else {
                throw TestFailure("no journal in \(data)")
            }
            journalInode = inode.uint64Value
            journal = FileManager.default.contents(atPath: data + "/journal.log")
        }
    }

    @Test("A second daemon on the same data directory exits naming the first, changes nothing, and no acknowledged write is lost")
    func secondDaemon() async throws {
        let first = try await SecurityDaemon.start()
        let admin = try await first.adminClient()
        #expect(try await admin.send("ADD USER amy@example.test").last == "OK user amy@example.test added (revision 2)")
        let before = try Files(first.data)

        // On ports of its own, so that only the data directory stands in its way; bounded,
        // so that a daemon that did start is stopped (and fails the test).
        let second = try await ProcessRunner.run("/usr/bin/timeout", [
            "20", SecurityDaemon.binary, "serve", "--data", first.data, "--listen", "127.0.0.1:0", "--plain-listen", "127.0.0.1:0",
        ])
        #expect(second.status == 1)
        #expect(second.error.contains("\(first.data) is in use by process \(first.pid)"), "\(second.error)")
        #expect(!second.error.contains("snapshot"), "no final snapshot: \(second.error)")
        #expect(try Files(first.data) == before, "the refused daemon wrote nothing and replaced no journal")

        // The first daemon goes on, and survives a kill -9 with both writes.
        #expect(try await admin.send("ADD USER zed@example.test").last == "OK user zed@example.test added (revision 3)")
        await first.crash()
        let restarted = try await SecurityDaemon.start(restarting: first)
        let client = try await restarted.adminClient()
        for user in ["amy", "zed"] {
            #expect(try await client.send("QUERY ENTRY \(user)@example.test").last == "OK", "\(user) survived")
        }
        // The restart says what it loaded, and where it listens.
        let line = try #require(restarted.logText.split(separator: "\n").first { $0.contains("deputyd 0.1.0 started") })
        #expect(line.contains("started; data directory \(first.data): loaded 3 users, "), "\(line)")
        #expect(line.contains(" at sequence 3 (no snapshot, 3 journal records replayed)"), "\(line)")
        #expect(line.hasSuffix("listening on 127.0.0.1:\(restarted.tlsPort) (TLS), 127.0.0.1:\(restarted.plainPort) (plaintext)"), "\(line)")
        await restarted.stop()
    }

    @Test("init and restore refuse a data directory in use and change nothing; check and backup read beside the daemon")
    func toolsBesideTheDaemon() async throws {
        let daemon = try await SecurityDaemon.start(["--snapshot-every", "5"])
        let admin = try await daemon.adminClient()
        for index in 0..<12 { _ = try await admin.send("ADD USER tool\(index)@example.test") }
        // A snapshot now, so that none falls due while the files are compared below.
        #expect(try await admin.send("SNAPSHOT").first?.hasPrefix("OK snapshot written") == true)
        let backup = daemon.root.appendingPathComponent("backup.json").path
        let copy = try await ProcessRunner.run(SecurityDaemon.binary, ["backup", "--data", daemon.data, "--to", backup])
        #expect(copy.status == 0, "\(copy.error)")
        let before = try Files(daemon.data)

        let restore = try await ProcessRunner.run(SecurityDaemon.binary, ["restore", "--from", backup, "--data", daemon.data])
        #expect(restore.status == 1)
        #expect(restore.error.contains("\(daemon.data) is in use by process \(daemon.pid)"), "\(restore.error)")
        let initialize = try await ProcessRunner.run(SecurityDaemon.binary, [
            "init", "--data", daemon.data, "--org", "other", "--domain", "other.test", "--superadmin", "boss@other.test",
        ])
        #expect(initialize.status == 1)
        #expect(initialize.error.contains("\(daemon.data) is in use by process \(daemon.pid)"), "\(initialize.error)")
        #expect(try Files(daemon.data) == before)

        let check = try await ProcessRunner.run(SecurityDaemon.binary, ["check", "--data", daemon.data])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.hasPrefix("note: \(daemon.data) is in use by process \(daemon.pid), a running deputyd"), "\(check.output)")
        #expect(check.output.contains("directory: 13 users, ") && check.output.hasSuffix("ok\n"), "\(check.output)")
        #expect(await daemon.stop())
    }
}
