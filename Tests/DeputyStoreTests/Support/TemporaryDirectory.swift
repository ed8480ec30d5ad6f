import Foundation

/// Directories on the real file system for tests, removed by the test that made them.
enum TemporaryDirectory {
    /// A new empty directory (mode 0700) under the system's temporary directory.
    static func make() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-store-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
