import DeputyServer
import Foundation
import Testing

/// The real `deputy` binary against a real daemon over TLS, with a home directory of its own.
struct CLIHarness {
    let server: TestServer
    let home: URL
    let caFile: String

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputy").path
    }

    static func start() async throws -> CLIHarness {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the deputy executable first: \(binary)")
        let server = try await TestServer.launch()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let caFile = home.appendingPathComponent("ca.pem").path
        try server.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        return CLIHarness(server: server, home: home, caFile: caFile)
    }

    var serverAddress: String { "127.0.0.1:\(server.tlsPort)" }

    /// Runs `deputy` with the connection flags (unless `connection` is false) as the admin.
    func run(
        _ arguments: [String], connection: Bool = true, password: String? = TestServer.adminPassword, input: String = "",
        extraEnvironment: [String: String] = [:]
    ) async throws -> ProcessRunner.Result {
        var environment = ["HOME": home.path, "PATH": "/usr/bin:/bin", "NO_COLOR": "1"]
        if let password { environment["DEPUTY_PASSWORD"] = password }
        environment.merge(extraEnvironment) { $1 }
        let flags = connection ? ["--server", serverAddress, "--ca", caFile, "--user", "admin@example.test"] : []
        return try await ProcessRunner.run(Self.binary, arguments + flags, input: input, environment: environment, replaceEnvironment: true)
    }

    func write(_ text: String, to name: String, mode: Int = 0o600) throws -> String {
        let path = home.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func stop() async throws {
        try await server.stop()
        try? FileManager.default.removeItem(at: home)
    }
}
