import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Permissions of the data directory")
struct PermissionTests {
    static func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test("a new data directory is 0700 and every file the store writes is 0600")
    func createdModes() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        let store = try await StoreFixture.open(PosixFileSystem(), path: data)
        try await StoreFixture.commitApplied(store, StoreFixture.createOrganization)
        try await store.close()
        #expect(try Self.mode(data) == 0o700)
        #expect(try Self.mode(data + "/journal.log") == 0o600)
        #expect(try Self.mode(data + "/snapshot.json") == 0o600)
    }

    @Test("a secret file is written 0600 and replaces the old one whole")
    func secretFile() throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let key = root + "/tls-key.pem"
        try SecretFile.write("first\n", to: key)
        try SecretFile.write("second\n", to: key)
        #expect(try String(contentsOfFile: key, encoding: .utf8) == "second\n")
        #expect(try Self.mode(key) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: key + ".tmp"))
    }

    @Test("a secret file that can't be replaced keeps its old content and names the failure")
    func secretFileFailure() throws {
        let disk = SimulatedFileSystem()
        try disk.createDirectory("/data", permissions: 0o700)
        try SecretFile.write("old", to: "/data/initial-password", fileSystem: disk)
        disk.failNextRename(to: "/data/initial-password", with: .noSpace)
        #expect(throws: StorageFileSystemError.self) {
            try SecretFile.write("new", to: "/data/initial-password", fileSystem: disk)
        }
        #expect(try disk.readFile("/data/initial-password") == Array("old".utf8))
        #expect(try disk.info("/data/initial-password.tmp") == nil)
    }

    @Test("a file readable by others stops the store with the chmod that fixes it")
    func openFile() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        try await StoreFixture.open(PosixFileSystem(), path: data).close()
        let key = data + "/tls-key.pem"
        #expect(FileManager.default.createFile(atPath: key, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o644]))
        await #expect {
            _ = try await StoreFixture.open(PosixFileSystem(), path: data)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .permissions && error?.message.contains("\(key) is readable or writable by group or others (mode 0644)") == true
                && error?.message.contains("chmod 600 \(key)") == true
        }
        #expect(Store.check(path: data, fileSystem: PosixFileSystem()).problems.contains { $0.contains("chmod 600 \(key)") })

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        try await StoreFixture.open(PosixFileSystem(), path: data).close()
    }

    @Test("a data directory open to others stops the store with the chmod that fixes it")
    func openDirectory() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        try await StoreFixture.open(PosixFileSystem(), path: data).close()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data)
        await #expect {
            _ = try await StoreFixture.open(PosixFileSystem(), path: data)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .permissions && error?.message.contains("mode 0755") == true && error?.message.contains("chmod 700 \(data)") == true
        }
        // Nothing was changed by the refusal.
        #expect(try Self.mode(data) == 0o755)
    }

    @Test("the journal with group write permission is refused too")
    func journalMode() async throws {
        let root = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(root) }
        let data = root + "/data"
        try await StoreFixture.open(PosixFileSystem(), path: data).close()
        try FileManager.default.setAttributes([.posixPermissions: 0o620], ofItemAtPath: data + "/journal.log")
        await #expect(throws: StoreError.self) { _ = try await StoreFixture.open(PosixFileSystem(), path: data) }
    }
}
