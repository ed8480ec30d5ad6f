import DeputyServer
import Foundation
import Logging
import Testing

/// A configured TLS key that every user of the machine may read is said so in the log; one
/// kept to its owner, or shared with a group such as Debian's `ssl-cert`, is not.
@Suite("TLS key mode")
struct TLSKeyModeTests {
    private static func certificateFiles(keyMode: Int) throws -> (directory: String, certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-keymode-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let generated = try ServerCertificate.generate(hostNames: ["localhost"])
        let certificate = (directory as NSString).appendingPathComponent("cert.pem")
        let key = (directory as NSString).appendingPathComponent("key.pem")
        try generated.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try generated.keyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: keyMode], ofItemAtPath: key)
        return (directory, certificate, key)
    }

    private static func warnings(keyMode: Int, throughLink: Bool = false) throws -> [LogCapture.Line] {
        let files = try certificateFiles(keyMode: keyMode)
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        var keyPath = files.key
        if throughLink {
            keyPath = (files.directory as NSString).appendingPathComponent("live-key.pem")
            try FileManager.default.createSymbolicLink(atPath: keyPath, withDestinationPath: files.key)
        }
        let capture = LogCapture()
        _ = try DataFiles.certificate(dataDirectory: files.directory, certificatePath: files.certificate, keyPath: keyPath, logger: capture.logger)
        return capture.lines.filter { $0.level == .warning }
    }

    @Test("a key readable by others is logged with its path, its mode and the command that mends it")
    func readableByOthers() throws {
        let lines = try Self.warnings(keyMode: 0o644)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.message.hasPrefix("the TLS key can be read by every user of this machine; run: chmod o-r "))
        #expect(line.metadata["tls.key.mode"] == "644")
    }

    @Test("keys kept to their owner or shared with a group, directly or through a symbolic link, are not")
    func keptClose() throws {
        #expect(try Self.warnings(keyMode: 0o600).isEmpty)
        #expect(try Self.warnings(keyMode: 0o640).isEmpty)
        #expect(try Self.warnings(keyMode: 0o600, throughLink: true).isEmpty)
        #expect(try Self.warnings(keyMode: 0o604, throughLink: true).count == 1)
    }
}
