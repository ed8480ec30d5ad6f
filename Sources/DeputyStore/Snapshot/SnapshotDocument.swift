import DeputyCore
import Foundation

/// The snapshot file's JSON document; also the format of `deputyd export` and `import`.
///
/// ```json
/// {"directory":{…},"format":"deputy-snapshot","savedAt":"2026-11-23T10:15:00Z","sequence":42,"version":1}
/// ```
struct SnapshotDocument: Codable {
    static let formatName = "deputy-snapshot"
    /// The newest version this program reads and writes.
    static let currentVersion = 2

    /// The version a document of `contents` is written with: 2 where the organisation has
    /// an audit retention, which a program of version 1 would read past and then keep
    /// records every other node drops; else 1, so that such a program still reads the rest
    /// and the bytes of a directory without it are what they were.
    static func version(of contents: DirectoryContents) -> Int {
        contents.organization?.auditRetentionDays == nil ? 1 : 2
    }

    /// Always `deputy-snapshot`.
    var format: String
    /// The format version, 1 or 2 (``version(of:)``).
    var version: Int
    /// The last journal sequence the directory includes, equal to its revision.
    var sequence: UInt64
    /// When the snapshot was written.
    var savedAt: Date
    /// The directory.
    var directory: DirectoryContents
}

/// The parts of a snapshot document read first, to name the format before the rest fails.
struct SnapshotHeader: Decodable {
    var format: String
    var version: Int
}
