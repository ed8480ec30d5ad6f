import DeputyCore
import Foundation

/// The snapshot file's JSON document; also the format of `deputyd export` and `import`.
///
/// ```json
/// {"directory":{…},"format":"deputy-snapshot","savedAt":"2026-11-23T10:15:00Z","sequence":42,"version":1}
/// ```
struct SnapshotDocument: Codable {
    static let formatName = "deputy-snapshot"
    static let currentVersion = 1

    /// Always `deputy-snapshot`.
    var format: String
    /// The format version, 1.
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
