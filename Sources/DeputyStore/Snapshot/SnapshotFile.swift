import DeputyCore
import Foundation

/// A snapshot read from a file and checked.
struct LoadedSnapshot: Sendable {
    /// The last journal sequence the directory includes.
    let sequence: UInt64
    /// When the snapshot was written.
    let savedAt: Date
    /// The directory, with its indexes rebuilt.
    let directory: Directory
}

/// Encoding, decoding and writing snapshot documents.
enum SnapshotFile {
    /// The document for `contents`; its sequence is the directory's revision.
    static func encode(_ contents: DirectoryContents, savedAt: Date, parallel: Bool = true) throws(StoreError) -> [UInt8] {
        let document = SnapshotDocument(
            format: SnapshotDocument.formatName, version: SnapshotDocument.version(of: contents),
            sequence: contents.revision, savedAt: savedAt, directory: contents
        )
        do {
            var bytes = try SnapshotCodec.encode(document, parallel: parallel, extraCapacity: 1)
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        } catch {
            throw StoreError(.unstorable, "the directory cannot be encoded as a snapshot: \(error)")
        }
    }

    /// Decodes and checks a snapshot document read from `path`: the format and version, the
    /// sequence against the directory's revision, and the directory's invariants.
    static func decode(_ bytes: [UInt8], path: String, code: StoreError.Code = .corruptSnapshot) throws(StoreError) -> LoadedSnapshot {
        func failure(_ offset: Int?, _ reason: String) -> StoreError {
            code == .corruptSnapshot
                ? .corruptSnapshot(path: path, offset: offset, reason)
                : StoreError(code, "\(offset.map { "\(path) at byte \($0)" } ?? path): \(reason)", path: path, offset: offset)
        }
        let document: SnapshotDocument
        do {
            document = try SnapshotCodec.decode(bytes)
        } catch {
            if let header = try? StorageJSONDecoder().decode(SnapshotHeader.self, from: bytes), !isSupported(header) {
                throw failure(nil, "this is not a Deputy snapshot of a version this program reads (format \"\(header.format)\", version \(header.version))")
            }
            throw failure(error.offset, error.reason)
        }
        guard isSupported(SnapshotHeader(format: document.format, version: document.version)) else {
            throw failure(nil, "this is not a Deputy snapshot of a version this program reads (format \"\(document.format)\", version \(document.version))")
        }
        guard document.sequence == document.directory.revision else {
            throw failure(nil, "the sequence \(document.sequence) differs from the directory's revision \(document.directory.revision)")
        }
        let directory: Directory
        do {
            directory = try Directory(contents: document.directory)
        } catch {
            throw failure(nil, "the directory is invalid: \(error)")
        }
        return LoadedSnapshot(sequence: document.sequence, savedAt: document.savedAt, directory: directory)
    }

    /// Reads and decodes the snapshot at `path`, or returns `nil` when there is none.
    static func load(_ path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> LoadedSnapshot? {
        let bytes: [UInt8]
        do {
            guard try fileSystem.info(path) != nil else { return nil }
            bytes = try fileSystem.readFile(path)
        } catch {
            throw StoreError.storage("cannot read the snapshot", error)
        }
        return try decode(bytes, path: path)
    }

    /// Encodes `directory` and writes it over `path` atomically. Returns the bytes written.
    @discardableResult
    static func write(_ directory: Directory, savedAt: Date, to path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> Int {
        let bytes = try encode(directory.contents, savedAt: savedAt)
        do {
            try AtomicReplace.replace(path, with: bytes, fileSystem: fileSystem)
        } catch {
            // Said of the file, not of a snapshot: a backup is written here too.
            let stage = error.renamed ? "the new file replaced the old one, but its directory could not be synced" : "no file there was changed"
            throw StoreError.storage("writing \(path) failed (\(stage))", error.underlying)
        }
        return bytes.count
    }

    private static func isSupported(_ header: SnapshotHeader) -> Bool {
        header.format == SnapshotDocument.formatName && (1...SnapshotDocument.currentVersion).contains(header.version)
    }
}
