/// A file the daemon writes for other programs on the host to read through its group, such
/// as the ACL file Dovecot's mail processes read: mode 0640, replaced the way the store
/// replaces its snapshot, so a reader sees the old file or the new one, whole.
public enum PublishedFile {
    /// Replaces `path` with `text`, mode 0640, atomically and durably.
    public static func write(
        _ text: String, to path: String, fileSystem: any StorageFileSystem = PosixFileSystem()
    ) throws(StorageFileSystemError) {
        do {
            try AtomicReplace.replace(path, with: Array(text.utf8), fileSystem: fileSystem, permissions: 0o640)
        } catch {
            throw error.underlying
        }
    }
}
