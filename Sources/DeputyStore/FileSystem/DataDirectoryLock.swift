import Foundation
import Synchronization

/// The exclusive lock of a data directory: whoever holds it is the one process that reads
/// and writes the directory's files (`deputyd serve`, `init` and `restore` take it; `check`
/// and `backup` only read, and read consistently beside its holder).
///
/// The lock is a `flock` on ``fileName`` in the directory, whose content is the holder's
/// process id, so that a refusal can name it. The system lets go of the lock when the
/// holder ends however it ends, `kill -9` included, so a leftover file never blocks a
/// restart; the file itself stays.
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = "deputyd.lock"

    /// Who holds a data directory's lock.
    public struct Holder: Hashable, Sendable, CustomStringConvertible {
        /// The holder's process id, when the lock file names one.
        public let processID: Int32?

        /// `process 1234`, or `another process` while the holder has not written its id yet.
        public var description: String { processID.map { "process \($0)" } ?? "another process" }
    }

    /// The data directory, as given.
    public let path: String
    private let fileSystem: any StorageFileSystem
    private let handle: Mutex<StorageFileHandle?>

    private init(path: String, fileSystem: any StorageFileSystem, handle: StorageFileHandle) {
        self.path = path
        self.fileSystem = fileSystem
        self.handle = Mutex(handle)
    }

    deinit {
        release()
    }

    /// Takes the lock of the data directory at `path`, creating the directory (mode 0700)
    /// when it is missing, and writes `processID` into the lock file. Refuses, with an
    /// error that names the holder, when another process holds it; creates nothing else.
    public static func acquire(
        path: String, fileSystem: any StorageFileSystem = PosixFileSystem(),
        processID: Int32 = ProcessInfo.processInfo.processIdentifier
    ) throws(StoreError) -> DataDirectoryLock {
        let directory = try DataDirectory.create(path: path, fileSystem: fileSystem)
        let lockPath = StoragePath.join(directory.path, fileName)
        let taken: StorageFileHandle?
        do {
            taken = try fileSystem.lockExclusively(lockPath)
        } catch {
            throw StoreError.storage("cannot lock the data directory", error)
        }
        guard let taken else {
            throw inUse(directory.path, by: holder(lockPath, fileSystem: fileSystem))
        }
        do throws(StorageFileSystemError) {
            try fileSystem.truncate(taken, toLength: 0)
            try fileSystem.write(Array("\(processID)\n".utf8), to: taken)
        } catch {
            fileSystem.close(taken)
            throw StoreError.storage("cannot write the lock file", error)
        }
        return DataDirectoryLock(path: directory.path, fileSystem: fileSystem, handle: taken)
    }

    /// Who holds the lock of the data directory at `path`; `nil` when nobody does.
    /// Creates nothing and takes no lock.
    public static func holder(of path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws(StoreError) -> Holder? {
        let lockPath = StoragePath.join(StoragePath.normalized(path), fileName)
        do {
            guard try fileSystem.isLocked(lockPath) else { return nil }
        } catch {
            throw StoreError.storage("cannot read the lock of the data directory", error)
        }
        return holder(lockPath, fileSystem: fileSystem)
    }

    /// The error for a data directory that another process holds.
    static func inUse(_ path: String, by holder: Holder) -> StoreError {
        StoreError(
            .inUse,
            "\(path) is in use by \(holder); a data directory serves one deputyd at a time: stop that one first, or give another --data",
            path: path
        )
    }

    /// Lets go of the lock (a second call does nothing); the store does so when it closes.
    public func release() {
        guard let taken = handle.withLock({ held -> StorageFileHandle? in
            defer { held = nil }
            return held
        }) else { return }
        fileSystem.close(taken)
    }

    private static func holder(_ lockPath: String, fileSystem: any StorageFileSystem) -> Holder {
        let text = (try? fileSystem.readFile(lockPath)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Holder(processID: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
