/// A small file only the daemon's user may read, such as a TLS key or a generated
/// password, written the way the store writes its snapshot.
public enum SecretFile {
    /// Replaces `path` with `text`, mode 0600, atomically and durably: a crash leaves the
    /// old file or the new one, whole.
    public static func write(
        _ text: String, to path: String, fileSystem: any StorageFileSystem = PosixFileSystem()
    ) throws(StorageFileSystemError) {
        do {
            try AtomicReplace.replace(path, with: Array(text.utf8), fileSystem: fileSystem)
        } catch {
            throw error.underlying
        }
    }
}
