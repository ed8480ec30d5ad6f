import DeputyCore
import DeputyStore
import Foundation
import Synchronization
import Testing

/// `Store.backup`: a point-in-time copy of a data directory that a daemon may be writing,
/// consistent even when a snapshot replaces the files between the backup's reads.
@Suite("Backup")
struct BackupTests {
    private typealias F = StoreFixture

    /// The two generations of a data directory: before a snapshot (S1 with 3 users, J1
    /// with 2 more), and after it (S2 with all 5, J2 with a 6th).
    private static func generations() async throws -> (first: [String: [UInt8]], second: [String: [UInt8]], final: UInt64) {
        let disk = SimulatedFileSystem()
        let store = try await F.open(disk)
        try await F.commitApplied(store, F.createOrganization)
        for name in ["a", "b", "c"] { try await F.commitApplied(store, F.addUser(name)) }
        _ = try await store.snapshot()
        for name in ["d", "e"] { try await F.commitApplied(store, F.addUser(name)) }
        let first = [F.snapshotPath: try disk.readFile(F.snapshotPath), F.journalPath: try disk.readFile(F.journalPath)]
        _ = try await store.snapshot()
        try await F.commitApplied(store, F.addUser("f"))
        let second = [F.snapshotPath: try disk.readFile(F.snapshotPath), F.journalPath: try disk.readFile(F.journalPath)]
        let final = store.directory.revision
        try await store.close()
        return (first, second, final)
    }

    private static func install(_ files: [String: [UInt8]], on disk: SimulatedFileSystem) throws {
        for (path, bytes) in files {
            let handle = try disk.openForAppend(path, truncating: true)
            try disk.write(bytes, to: handle)
            try disk.sync(handle)
            disk.close(handle)
            try disk.setPermissions(path, 0o600)
        }
    }

    /// The first generation on a simulated disk, seen through a file system on which the
    /// daemon's snapshot lands just as the journal is first read: a reader reads S1, then
    /// J2, then S2.
    private static func rotatingDirectory() async throws -> (disk: SimulatedFileSystem, rotating: RotatingFileSystem, final: UInt64) {
        let (first, second, final) = try await generations()
        let disk = SimulatedFileSystem()
        try disk.createDirectory(F.dataPath, permissions: 0o700)
        try install(first, on: disk)
        return (disk, RotatingFileSystem(disk, onFirstJournalRead: { try install(second, on: disk) }), final)
    }

    @Test("A backup is mode 0600 even where a stale temporary file open to others was in its way")
    func staleTemporaryFile() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        try await store.close()
        let stale = try disk.openForAppend("/backup.json.tmp", truncating: false)
        try disk.write(Array("left by someone else".utf8), to: stale)
        disk.close(stale)
        try disk.setPermissions("/backup.json.tmp", 0o644)
        _ = try Store.backup(dataDirectory: F.dataPath, to: "/backup.json", fileSystem: disk)
        #expect(try disk.info("/backup.json")?.permissions == 0o600)
    }

    @Test("A dangling symbolic link where the backup's temporary file goes is removed, not followed, and the backup is written")
    func danglingLinkInTheWay() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        let store = try await F.open(PosixFileSystem(), path: data)
        try await F.commitApplied(store, F.createOrganization)
        try await store.close()
        #expect(symlink(root + "/nowhere/target", root + "/backup.json.tmp") == 0)
        _ = try Store.backup(dataDirectory: data, to: root + "/backup.json")
        let info = try #require(try PosixFileSystem().info(root + "/backup.json"))
        #expect(info.kind == .regularFile && info.permissions == 0o600)
        #expect(!FileManager.default.fileExists(atPath: root + "/nowhere"))
    }

    @Test("A snapshot written between the backup's reads makes it read again, and the copy holds every change")
    func rotationDuringBackup() async throws {
        let (disk, rotating, final) = try await Self.rotatingDirectory()
        let report = try Store.backup(dataDirectory: F.dataPath, to: "/backup.json", fileSystem: rotating)
        #expect(rotating.journalReads == 2, "the first, torn pair was read again")
        #expect(report.sequence == final)
        #expect(report.counts.users == 7, "the super administrator and a to f")

        // The copy restores to the same directory.
        let restored = try Store.importSnapshot(from: "/backup.json", into: "/restored", dryRun: false, fileSystem: disk)
        #expect(restored.sequence == final)
        #expect(restored.counts == report.counts)
    }

    @Test("check beside a running daemon: a snapshot written between its reads is read again, not reported as damage")
    func rotationDuringCheck() async throws {
        let (disk, rotating, final) = try await Self.rotatingDirectory()
        // A daemon holds the directory.
        let held = try #require(try disk.lockExclusively(F.dataPath + "/deputyd.lock"))
        try disk.write(Array("4242\n".utf8), to: held)
        let report = Store.check(path: F.dataPath, fileSystem: rotating)
        #expect(report.isHealthy, "\(report.problems)")
        #expect(report.inUseBy?.processID == 4_242)
        #expect(rotating.journalReads == 2, "the first, torn pair was read again")
        #expect(report.recovery?.lastSequence == final)
        #expect(report.counts?.users == 7)
    }

    @Test("Without a snapshot in between, one read of each file is enough")
    func quietDirectory() async throws {
        let (first, _, _) = try await Self.generations()
        let disk = SimulatedFileSystem()
        try disk.createDirectory(F.dataPath, permissions: 0o700)
        try Self.install(first, on: disk)
        let counting = RotatingFileSystem(disk, onFirstJournalRead: {})
        let report = try Store.backup(dataDirectory: F.dataPath, to: "/backup.json", fileSystem: counting)
        #expect(counting.journalReads == 1)
        #expect(report.counts.users == 6)
    }
}

/// A simulated disk that runs `onFirstJournalRead` just before the journal is first read,
/// as a daemon's snapshot might, and counts the journal's reads.
private final class RotatingFileSystem: StorageFileSystem {
    private let disk: SimulatedFileSystem
    private let onFirstJournalRead: @Sendable () throws -> Void
    private let reads = Mutex(0)

    init(_ disk: SimulatedFileSystem, onFirstJournalRead: @escaping @Sendable () throws -> Void) {
        self.disk = disk
        self.onFirstJournalRead = onFirstJournalRead
    }

    var journalReads: Int { reads.withLock { $0 } }

    func readFile(_ path: String) throws(StorageFileSystemError) -> [UInt8] {
        if path == StoreFixture.journalPath {
            let count = reads.withLock { count in
                count += 1
                return count
            }
            if count == 1 {
                do {
                    try onFirstJournalRead()
                } catch {
                    Issue.record("the rotation failed: \(error)")
                }
            }
        }
        return try disk.readFile(path)
    }

    func openForAppend(_ path: String, truncating: Bool) throws(StorageFileSystemError) -> StorageFileHandle { try disk.openForAppend(path, truncating: truncating) }
    func write(_ bytes: [UInt8], to file: StorageFileHandle) throws(StorageFileSystemError) { try disk.write(bytes, to: file) }
    func sync(_ file: StorageFileHandle) throws(StorageFileSystemError) { try disk.sync(file) }
    func truncate(_ file: StorageFileHandle, toLength length: Int) throws(StorageFileSystemError) { try disk.truncate(file, toLength: length) }
    func close(_ file: StorageFileHandle) { disk.close(file) }
    func rename(_ source: String, to destination: String) throws(StorageFileSystemError) { try disk.rename(source, to: destination) }
    func syncDirectory(_ path: String) throws(StorageFileSystemError) { try disk.syncDirectory(path) }
    func remove(_ path: String) throws(StorageFileSystemError) { try disk.remove(path) }
    func listDirectory(_ path: String) throws(StorageFileSystemError) -> [String] { try disk.listDirectory(path) }
    func createDirectory(_ path: String, permissions: UInt16) throws(StorageFileSystemError) { try disk.createDirectory(path, permissions: permissions) }
    func info(_ path: String) throws(StorageFileSystemError) -> StorageFileInfo? { try disk.info(path) }
    func setPermissions(_ path: String, _ permissions: UInt16) throws(StorageFileSystemError) { try disk.setPermissions(path, permissions) }
    func lockExclusively(_ path: String) throws(StorageFileSystemError) -> StorageFileHandle? { try disk.lockExclusively(path) }
    func isLocked(_ path: String) throws(StorageFileSystemError) -> Bool { try disk.isLocked(path) }
}
