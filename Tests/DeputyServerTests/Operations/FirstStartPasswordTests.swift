import Foundation
import Testing

/// The first start of an empty data directory creates the organisation and writes its super
/// administrator's generated password to a file; the two must not come apart.
@Suite("first start: the generated password")
struct FirstStartPasswordTests {
    @Test("a password file that can't be written stops the first start before the organisation is made, so the next start generates one")
    func passwordFileFirst() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-first-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A directory where the password file goes: writing the file fails.
        let blocker = (data as NSString).appendingPathComponent("initial-password")
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        let failed = try await ProcessRunner.run(SecurityDaemon.binary, ["serve", "--data", data, "--listen", "127.0.0.1:0"])
        #expect(failed.status == 1)
        #expect(failed.error.contains("initial-password"), "\(failed.error)")

        try FileManager.default.removeItem(atPath: blocker)
        let daemon = try await SecurityDaemon.start(dataDirectory: data)
        let client = try await daemon.adminClient()
        #expect(try await client.send("WHOAMI").first?.contains("login=admin@example.test") == true)
        await client.close()
        await daemon.stop(removingFiles: false)
    }
}
