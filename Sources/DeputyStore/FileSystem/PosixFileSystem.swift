#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX system calls.
///
/// Descriptors are opened with `O_CLOEXEC` so that no child process inherits the journal.
/// Writes loop over partial writes and `EINTR`; a directory is made durable by opening it
/// read-only and calling `fsync` on it. On Apple platforms ``sync(_:)`` uses
/// `F_FULLFSYNC`, because plain `fsync` there does not flush the drive's cache.
public struct PosixFileSystem: StorageFileSystem {
    /// Creates the file system.
    public init() {}

    public func openForAppend(_ path: String, truncating: Bool) throws(StorageFileSystemError) -> StorageFileHandle {
        var flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC
        // A file opened to be written from its start is a new one (a temporary file, a new
        // journal): never a symbolic link planted in its place.
        if truncating { flags |= O_TRUNC | O_NOFOLLOW }
        let descriptor = try Self.retrying("open", path) { open(path, flags, mode_t(0o600)) }
        return StorageFileHandle(descriptor: descriptor, path: path)
    }

    public func write(_ bytes: [UInt8], to file: StorageFileHandle) throws(StorageFileSystemError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                systemWrite(file.descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 {
                let number = errno
                if number == ErrorNumber.interrupted { continue }
                throw StorageFileSystemError(operation: "write", path: file.path, errorNumber: number)
            }
            // A regular file never accepts zero bytes of a non-empty write unless the device
            // is full; treat it as such rather than loop forever.
            if count == 0 {
                throw StorageFileSystemError(operation: "write", path: file.path, errorNumber: ErrorNumber.noSpace)
            }
            written += count
        }
    }

    public func sync(_ file: StorageFileHandle) throws(StorageFileSystemError) {
        #if canImport(Darwin)
        if fcntl(file.descriptor, F_FULLFSYNC) == 0 { return }
        #endif
        _ = try Self.retrying("fsync", file.path) { fsync(file.descriptor) }
    }

    public func truncate(_ file: StorageFileHandle, toLength length: Int) throws(StorageFileSystemError) {
        _ = try Self.retrying("ftruncate", file.path) { ftruncate(file.descriptor, off_t(length)) }
    }

    public func close(_ file: StorageFileHandle) {
        // After close fails the descriptor is gone on Linux whatever the error, so a retry
        // could close a descriptor another thread has just opened.
        _ = systemClose(file.descriptor)
    }

    public func readFile(_ path: String) throws(StorageFileSystemError) -> [UInt8] {
        let descriptor = try Self.retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = systemClose(descriptor) }
        var status = stat()
        _ = try Self.retrying("fstat", path) { fstat(descriptor, &status) }
        var bytes: [UInt8] = []
        // One byte more than the size, so that a file that has not grown is read in one
        // call and the next returns end of file.
        var chunk = max(Int(status.st_size) + 1, 65_536)
        while true {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + start, chunk)
            }
            if count < 0 {
                let number = errno
                bytes.removeSubrange(start...)
                if number == ErrorNumber.interrupted { continue }
                throw StorageFileSystemError(operation: "read", path: path, errorNumber: number)
            }
            bytes.removeSubrange((start + count)...)
            if count == 0 { return bytes }
            chunk = 65_536
        }
    }

    public func rename(_ source: String, to destination: String) throws(StorageFileSystemError) {
        _ = try Self.retrying("rename", "\(source) to \(destination)") { systemRename(source, destination) }
    }

    public func syncDirectory(_ path: String) throws(StorageFileSystemError) {
        let descriptor = try Self.retrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = systemClose(descriptor) }
        _ = try Self.retrying("fsync", path) { fsync(descriptor) }
    }

    public func remove(_ path: String) throws(StorageFileSystemError) {
        _ = try Self.retrying("unlink", path) { unlink(path) }
    }

    public func listDirectory(_ path: String) throws(StorageFileSystemError) -> [String] {
        guard let stream = opendir(path) else {
            throw StorageFileSystemError(operation: "opendir", path: path, errorNumber: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func createDirectory(_ path: String, permissions: UInt16) throws(StorageFileSystemError) {
        _ = try Self.retrying("mkdir", path) { mkdir(path, mode_t(permissions)) }
        // mkdir applies the umask; set the bits asked for exactly.
        try setPermissions(path, permissions)
    }

    public func info(_ path: String) throws(StorageFileSystemError) -> StorageFileInfo? {
        var status = stat()
        if stat(path, &status) != 0 {
            let number = errno
            if number == ErrorNumber.noEntry { return nil }
            throw StorageFileSystemError(operation: "stat", path: path, errorNumber: number)
        }
        let kind: StorageFileInfo.Kind
        switch status.st_mode & S_IFMT {
        case S_IFREG: kind = .regularFile
        case S_IFDIR: kind = .directory
        default: kind = .other
        }
        return StorageFileInfo(kind: kind, permissions: UInt16(status.st_mode & 0o7777), size: Int(status.st_size))
    }

    public func setPermissions(_ path: String, _ permissions: UInt16) throws(StorageFileSystemError) {
        _ = try Self.retrying("chmod", path) { chmod(path, mode_t(permissions)) }
    }

    public func lockExclusively(_ path: String) throws(StorageFileSystemError) -> StorageFileHandle? {
        // Read and write, not append: the holder writes its process id over the last one's.
        let descriptor = try Self.retrying("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode_t(0o600)) }
        guard try Self.tryLock(descriptor, LOCK_EX, path) else {
            _ = systemClose(descriptor)
            return nil
        }
        return StorageFileHandle(descriptor: descriptor, path: path)
    }

    public func isLocked(_ path: String) throws(StorageFileSystemError) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let number = errno
            if number == ErrorNumber.noEntry { return false }
            throw StorageFileSystemError(operation: "open", path: path, errorNumber: number)
        }
        defer { _ = systemClose(descriptor) }
        // A shared lock is granted unless someone holds the exclusive one; closing the
        // descriptor lets it go at once.
        return try !Self.tryLock(descriptor, LOCK_SH, path)
    }

    // MARK: - Helpers

    /// `flock` without waiting: `false` when another open file holds a conflicting lock.
    private static func tryLock(_ descriptor: Int32, _ operation: Int32, _ path: String) throws(StorageFileSystemError) -> Bool {
        while flock(descriptor, operation | LOCK_NB) != 0 {
            let number = errno
            if number == EWOULDBLOCK { return false }
            if number != ErrorNumber.interrupted {
                throw StorageFileSystemError(operation: "flock", path: path, errorNumber: number)
            }
        }
        return true
    }

    /// Runs a system call until it does not fail with `EINTR`; throws on any other failure.
    private static func retrying(
        _ operation: String, _ path: String, _ call: () -> Int32
    ) throws(StorageFileSystemError) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            let number = errno
            if number != ErrorNumber.interrupted {
                throw StorageFileSystemError(operation: operation, path: path, errorNumber: number)
            }
        }
    }
}

// Module-qualified names for the calls whose names the protocol's methods shadow.
#if canImport(Glibc)
private let systemWrite = Glibc.write
private let systemClose = Glibc.close
private let systemRename = Glibc.rename
#elseif canImport(Musl)
private let systemWrite = Musl.write
private let systemClose = Musl.close
private let systemRename = Musl.rename
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
private let systemClose = Darwin.close
private let systemRename = Darwin.rename
#endif
