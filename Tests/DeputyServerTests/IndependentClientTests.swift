import DeputyServer
import Foundation
import Testing

/// Clients we did not write: `openssl s_client` over TLS.
@Suite("An independent TLS client")
struct IndependentClientTests {
    @Test("openssl s_client holds a whole session: greeting, BIND, QUERY, QUIT")
    func opensslSession() async throws {
        let server = try await TestServer.launch()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-openssl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let caFile = directory.appendingPathComponent("ca.pem")
        try server.certificatePEM.write(to: caFile, atomically: true, encoding: .utf8)

        let output = try await Self.run(
            "/usr/bin/openssl",
            ["s_client", "-quiet", "-connect", "127.0.0.1:\(server.tlsPort)", "-servername", "localhost",
             "-CAfile", caFile.path, "-verify_return_error", "-tls1_2"],
            input: "BIND admin@example.test \"\(TestServer.adminPassword)\"\nQUERY SENDAS admin@example.test admin@example.test\nWHOAMI\nQUIT\n"
        )
        let lines = output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).filter { !$0.hasPrefix("depth=") && !$0.hasPrefix("verify return") }
        #expect(lines == [
            "OK deputyd \(DeputyVersion.current) ready",
            "OK bound as admin@example.test",
            "* allowed=yes via=own",
            "OK",
            "* login=admin@example.test kind=user dn=uid=admin,ou=users,dc=example,dc=test role=superadmin customroles=\"\" reauthenticated=yes",
            "OK",
            "OK bye",
        ])
        try await server.stop()
    }

    @Test("TLS 1.0 and 1.1 handshakes fail; TLS 1.3 works", arguments: [("-tls1", false), ("-tls1_1", false), ("-tls1_3", true)])
    func tlsVersions(flag: String, succeeds: Bool) async throws {
        let server = try await TestServer.launch()
        let output = try await Self.run(
            "/usr/bin/openssl", ["s_client", "-quiet", "-connect", "127.0.0.1:\(server.tlsPort)", flag], input: "PING\nQUIT\n",
            environment: ["OPENSSL_CONF": "/dev/null"]
        )
        #expect(output.contains("OK pong") == succeeds, "\(flag): \(output)")
        try await server.stop()
    }

    static func run(_ path: String, _ arguments: [String], input: String, environment: [String: String] = [:]) async throws -> String {
        try await ProcessRunner.run(path, arguments, input: input, environment: environment).output
    }
}
