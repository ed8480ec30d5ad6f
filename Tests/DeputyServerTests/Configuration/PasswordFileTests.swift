import DeputyDaemon
import Foundation
import Testing

@Suite("password files (the cluster's database password)")
struct PasswordFileTests {
    private static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-password-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static func write(_ text: String, to url: URL, mode: Int) throws {
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    @Test("the first line, whatever ends it: a file written on Windows reads the same")
    func lineEndings() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in [("unix", "s3cret\n"), ("windows", "s3cret\r\nsecond line\r\n"), ("bare", "s3cret")] {
            let file = directory.appendingPathComponent(name)
            try Self.write(text, to: file, mode: 0o600)
            #expect(try PasswordFile.read(file.path) == "s3cret", "\(name)")
        }
    }

    @Test("a symbolic link to a file readable by its owner only is accepted; the file's own mode decides")
    func symbolicLink() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("pg-password")
        try Self.write("s3cret\n", to: file, mode: 0o600)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: file)
        #expect(try PasswordFile.read(link.path) == "s3cret")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        #expect(throws: (any Error).self) { try PasswordFile.read(link.path) }
        #expect(throws: (any Error).self) { try PasswordFile.read(file.path) }
    }
}
