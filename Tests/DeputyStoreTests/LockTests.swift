import DeputyCore
import DeputyStore
import Foundation
import Testing

/// The data directory's lock: one process at a time reads and writes a data directory, and
/// a second one is refused before it reads or writes anything.
@Suite("Data directory lock")
struct LockTests {
    private typealias F = StoreFixture

    /// The snapshot's and journal's bytes, to show that a refusal changed nothing.
    private static func files(_ data: String) -> [Data?] {
        [data + "/snapshot.json", data + "/journal.log"].map { FileManager.default.contents(atPath: $0) }
    }

    @Test("A second store on a data directory in use is refused, names the holder, and changes nothing")
    func secondStoreRefused() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/deputy-data"
        let first = try await F.open(PosixFileSystem(), path: data)
        try await F.commitApplied(first, F.createOrganization)
        try await F.commitApplied(first, F.addUser("zed"), step: 1)
        let before = Self.files(data)

        await #expect {
            _ = try await F.open(PosixFileSystem(), path: data)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .inUse && error?.message.hasPrefix("\(data) is in use by process \(getpid())") == true
        }
        #expect(Self.files(data) == before, "the refused store wrote nothing")
        #expect(try DataDirectoryLock.holder(of: data)?.processID == getpid())

        // The first store goes on, and once it has closed the directory opens again with
        // everything in it.
        try await F.commitApplied(first, F.addUser("amy"), step: 2)
        try await first.close()
        #expect(try DataDirectoryLock.holder(of: data) == nil)
        let second = try await F.open(PosixFileSystem(), path: data)
        #expect(F.hasUser("zed", in: second.directory) && F.hasUser("amy", in: second.directory))
        try await second.close()
    }

    @Test("A process that dies lets go of the lock: a power cut frees it on the simulated disk")
    func deathReleases() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 1)
        await #expect(throws: StoreError.self) { _ = try await F.open(disk) }
        disk.powerCut()
        let reopened = try await F.open(disk)
        #expect(F.hasUser("u0", in: reopened.directory))
        _ = store
    }

    @Test("restore refuses a data directory in use, even an empty one, and writes no snapshot")
    func restoreRefusedWhileInUse() async throws {
        let disk = SimulatedFileSystem()
        let source = try await F.populated(disk, users: 2)
        try Store.export(dataDirectory: F.dataPath, to: "/export.json", fileSystem: disk)
        try await source.close()
        // A daemon has just started on an empty directory: no snapshot, an empty journal.
        let running = try await F.open(disk, path: "/fresh")
        #expect {
            try Store.importSnapshot(from: "/export.json", into: "/fresh", dryRun: false, fileSystem: disk)
        } throws: { ($0 as? StoreError)?.code == .inUse }
        #expect(disk.contents(of: "/fresh/snapshot.json") == nil)
        // Once that daemon has died (a clean stop would have written a snapshot), the
        // restore goes ahead.
        disk.powerCut()
        let restored = try Store.importSnapshot(from: "/export.json", into: "/fresh", dryRun: false, fileSystem: disk)
        #expect(restored.counts.users == 3)
        #expect(try DataDirectoryLock.holder(of: "/fresh", fileSystem: disk) == nil, "restore let go of the lock")
        _ = running
    }

    @Test("The lock file holds the holder's process id and mode 0600; a path that is a file is refused")
    func lockFile() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        let lock = try DataDirectoryLock.acquire(path: data, processID: 4_242)
        #expect(try String(contentsOfFile: data + "/deputyd.lock", encoding: .utf8) == "4242\n")
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/deputyd.lock")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect {
            _ = try DataDirectoryLock.acquire(path: data + "/")
        } throws: { ($0 as? StoreError)?.message.hasPrefix("\(data) is in use by process 4242") == true }
        lock.release()
        #expect(try DataDirectoryLock.holder(of: data) == nil)

        #expect(FileManager.default.createFile(atPath: root + "/plain", contents: Data()))
        #expect {
            _ = try DataDirectoryLock.acquire(path: root + "/plain")
        } throws: { ($0 as? StoreError)?.message == "\(root)/plain is not a directory" }
    }
}
