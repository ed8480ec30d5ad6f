import DeputyCore
import Foundation

/// The directory as snapshot bytes that depend on nothing but the directory: the same
/// directory gives the same bytes on every node, in every process.
///
/// It is the format of `snapshot.json` and `deputyd backup`. The document's `savedAt` is
/// the time of the newest audit record (the time of the last command, refused ones
/// included), not the clock of the machine that encodes it, so two nodes at one revision
/// agree byte for byte and can compare SHA-256 digests of their states.
public enum PortableSnapshot {
    /// The directory's bytes; `parallel: false` encodes on the calling thread alone (a
    /// background save, which must leave the other threads to the tasks that answer).
    public static func encode(_ directory: Directory, parallel: Bool = true) throws(StoreError) -> [UInt8] {
        let savedAt = directory.auditLog[directory.auditLog.lastSequence]?.time ?? Date(timeIntervalSince1970: 0)
        return try SnapshotFile.encode(directory.contents, savedAt: savedAt, parallel: parallel)
    }

    /// The directory in `bytes`, checked like a snapshot file (format, version, sequence
    /// against revision, invariants); `source` names the bytes in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws(StoreError) -> Directory {
        try SnapshotFile.decode(bytes, path: source).directory
    }

    /// Replaces `path` with `bytes` (0600), atomically and durably.
    public static func write(_ bytes: [UInt8], to path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws(StoreError) {
        try write(header: [], bytes, to: path, fileSystem: fileSystem)
    }

    /// Replaces `path` with `header` followed by `bytes` (0600), atomically and durably,
    /// without copying the two into one buffer first.
    public static func write(header: [UInt8], _ bytes: [UInt8], to path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws(StoreError) {
        do {
            try AtomicReplace.replace(path, withParts: header.isEmpty ? [bytes] : [header, bytes], fileSystem: fileSystem)
        } catch {
            throw StoreError.storage("writing \(path) failed", error.underlying)
        }
    }

    /// The bytes of the file at `path`, or `nil` when there is none.
    public static func read(_ path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws(StoreError) -> [UInt8]? {
        do {
            guard try fileSystem.info(path) != nil else { return nil }
            return try fileSystem.readFile(path)
        } catch {
            throw StoreError.storage("cannot read \(path)", error)
        }
    }
}
