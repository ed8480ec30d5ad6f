import DeputyCore
import Foundation

/// A file in the snapshot format, written the plain way (Foundation's encoder), for
/// `deputyd import` or the store to import.
public struct ImportFile: Encodable {
    let format = "deputy-snapshot"
    let version = 1
    let sequence: UInt64
    let savedAt = Date(timeIntervalSince1970: 1_800_000_000)
    let directory: DirectoryContents

    public init(directory: DirectoryContents) {
        self.directory = directory
        self.sequence = directory.revision
    }

    /// Writes the file (mode 0600: it holds password hashes).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(self)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
