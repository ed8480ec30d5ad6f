/// Replaces a file with new content so that a crash at any moment leaves either the old
/// file or the new one, whole.
///
/// The steps, in order: write `<path>.tmp` (created anew, 0600), fsync it, rename
/// it over `<path>`, fsync the directory. The old file is not touched before the new one
/// is durable under its temporary name, and the rename is atomic.
enum AtomicReplace {
    /// A failed replacement, and whether it failed after the rename, when which of the two
    /// files a crash would leave is unknown.
    struct Failure: Error {
        let underlying: StorageFileSystemError
        let renamed: Bool
    }

    /// The temporary path used to replace `path`.
    static func temporaryPath(for path: String) -> String {
        path + ".tmp"
    }

    /// Replaces `path` with `bytes`. With `keepOpen`, returns the new file open for
    /// appending; otherwise closes it and returns `nil`. With `permissions`, the new file
    /// gets them before it takes the old one's place; otherwise it stays 0600.
    @discardableResult
    static func replace(
        _ path: String, with bytes: [UInt8], fileSystem: any StorageFileSystem, keepOpen: Bool = false,
        permissions: UInt16? = nil
    ) throws(Failure) -> StorageFileHandle? {
        try replace(path, withParts: [bytes], fileSystem: fileSystem, keepOpen: keepOpen, permissions: permissions)
    }

    /// Replaces `path` with `parts`, one after the other: a header and a large body are
    /// written without first being copied into one buffer.
    @discardableResult
    static func replace(
        _ path: String, withParts parts: [[UInt8]], fileSystem: any StorageFileSystem, keepOpen: Bool = false,
        permissions: UInt16? = nil
    ) throws(Failure) -> StorageFileHandle? {
        let temporary = temporaryPath(for: path)
        let handle: StorageFileHandle
        do throws(StorageFileSystemError) {
            // A temporary file left in the way (by a crash, or by someone else where others
            // may write, as a backup's destination may be) is removed, not reused: reused, it
            // would keep its owner and mode, and a symbolic link there would be followed.
            // Unlinked whatever it is: a dangling link too, which a look through it would miss.
            do throws(StorageFileSystemError) {
                try fileSystem.remove(temporary)
            } catch {
                if error.errorNumber != ErrorNumber.noEntry { throw error }
            }
            handle = try fileSystem.openForAppend(temporary, truncating: true)
        } catch {
            throw Failure(underlying: error, renamed: false)
        }
        do {
            for part in parts { try fileSystem.write(part, to: handle) }
            try fileSystem.setPermissions(temporary, permissions ?? 0o600)
            try fileSystem.sync(handle)
            try fileSystem.rename(temporary, to: path)
        } catch {
            fileSystem.close(handle)
            // The old file is intact; the half-made one is only in the way.
            try? fileSystem.remove(temporary)
            throw Failure(underlying: error, renamed: false)
        }
        do {
            try fileSystem.syncDirectory(StoragePath.parent(of: path))
        } catch {
            fileSystem.close(handle)
            throw Failure(underlying: error, renamed: true)
        }
        guard keepOpen else {
            fileSystem.close(handle)
            return nil
        }
        // The descriptor now names the file under its final path.
        return StorageFileHandle(descriptor: handle.descriptor, path: path)
    }
}
