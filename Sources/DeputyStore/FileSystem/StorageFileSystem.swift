/// The file operations the store needs, and nothing else.
///
/// Two implementations exist: ``PosixFileSystem`` for production, and
/// ``SimulatedFileSystem``, which keeps files in memory and models what a power cut loses.
/// Every call blocks; the store makes them from its own I/O threads, never from the
/// cooperative thread pool.
///
/// Durability follows POSIX: bytes written to a file are durable only after ``sync(_:)``
/// on it returns, and a created, renamed or removed name only after
/// ``syncDirectory(_:)`` on its directory returns.
public protocol StorageFileSystem: Sendable {
    /// Opens `path` for writing at its end, creating it with mode 0600 when missing;
    /// `truncating` empties an existing file first.
    func openForAppend(_ path: String, truncating: Bool) throws(StorageFileSystemError) -> StorageFileHandle

    /// Writes all of `bytes` at the end of `file`. A failure may leave part of them written.
    func write(_ bytes: [UInt8], to file: StorageFileHandle) throws(StorageFileSystemError)

    /// Makes everything written to `file` durable (fsync).
    func sync(_ file: StorageFileHandle) throws(StorageFileSystemError)

    /// Cuts `file` to `length` bytes; later writes go to the new end.
    func truncate(_ file: StorageFileHandle, toLength length: Int) throws(StorageFileSystemError)

    /// Closes `file`. Closing never reports an error: durability comes from ``sync(_:)``.
    func close(_ file: StorageFileHandle)

    /// The whole content of the file at `path`.
    func readFile(_ path: String) throws(StorageFileSystemError) -> [UInt8]

    /// Renames `source` to `destination`, replacing `destination` atomically.
    func rename(_ source: String, to destination: String) throws(StorageFileSystemError)

    /// Makes the names in the directory at `path` durable (fsync of the directory).
    func syncDirectory(_ path: String) throws(StorageFileSystemError)

    /// Removes the file at `path`.
    func remove(_ path: String) throws(StorageFileSystemError)

    /// The names in the directory at `path`, without `.` and `..`.
    func listDirectory(_ path: String) throws(StorageFileSystemError) -> [String]

    /// Creates the directory at `path` with `permissions`; its parent must exist.
    func createDirectory(_ path: String, permissions: UInt16) throws(StorageFileSystemError)

    /// The kind, permission bits and size of what `path` names (following symbolic
    /// links), or `nil` when nothing is there.
    func info(_ path: String) throws(StorageFileSystemError) -> StorageFileInfo?

    /// Sets the permission bits of `path`.
    func setPermissions(_ path: String, _ permissions: UInt16) throws(StorageFileSystemError)

    /// Takes the exclusive lock of the file at `path` (created with mode 0600 when missing)
    /// without waiting for it. Returns the open file that holds the lock until it is
    /// closed, or `nil` when another open file holds it: in this process or another
    /// (`flock`, so a process that dies lets go of its locks).
    func lockExclusively(_ path: String) throws(StorageFileSystemError) -> StorageFileHandle?

    /// Whether some open file holds the exclusive lock of `path`; a missing file is not
    /// locked. Creates nothing and keeps no lock.
    func isLocked(_ path: String) throws(StorageFileSystemError) -> Bool
}

/// An open file of a ``StorageFileSystem``.
public struct StorageFileHandle: Hashable, Sendable {
    /// The descriptor (``PosixFileSystem``) or the simulated equivalent.
    public let descriptor: Int32
    /// The path the file was opened at, for error messages.
    public let path: String

    /// Wraps a descriptor.
    public init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }
}

/// What ``StorageFileSystem/info(_:)`` reports about a path.
public struct StorageFileInfo: Hashable, Sendable {
    /// What kind of entry a path names.
    public enum Kind: Hashable, Sendable {
        case regularFile
        case directory
        case other
    }

    /// The kind of entry.
    public let kind: Kind
    /// The permission bits, for example `0o600`.
    public let permissions: UInt16
    /// The size in bytes.
    public let size: Int

    /// Creates a description.
    public init(kind: Kind, permissions: UInt16, size: Int) {
        self.kind = kind
        self.permissions = permissions
        self.size = size
    }
}
