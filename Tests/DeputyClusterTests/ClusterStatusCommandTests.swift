import Foundation
import Testing

/// `deputyd cluster status` when no server can be used as the primary: what each answered
/// is what an operator needs most then, in words rather than the TLS library's.
@Suite(.serialized)
struct ClusterStatusCommandTests {
    @Test func withNoPrimaryEveryHostIsShownWithItsReason() async throws {
        try await ClusterHarness.run(nodes: 0) { harness in
            let root = "/tmp/deputy-cluster-status-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: root) }
            try "\(PostgresPair.deputyPassword)\n".write(toFile: root + "/pg-password", atomically: false, encoding: .utf8)
            chmod(root + "/pg-password", 0o600)
            // A CA that issued neither server's certificate.
            try await Shell.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=Another CA",
                "-keyout", root + "/other.key", "-out", root + "/other.crt",
            ])
            let hosts = harness.pair.ports.values.sorted().flatMap { ["--cluster-hosts", "localhost:\($0)"] }
            let status = try await Shell.run(
                DaemonNodeTests.daemon, ["cluster", "status"] + hosts + ["--cluster-password-file", root + "/pg-password", "--cluster-ca", root + "/other.crt"],
                check: false
            )
            #expect(status.status == 1, "\(status.stdout)\(status.stderr)")
            let hostLines = status.stdout.split(separator: "\n").filter { $0.hasPrefix("host localhost:") }
            #expect(hostLines.count == 2, "\(status.stdout)")
            for line in hostLines {
                #expect(line.contains("unreachable (") && line.contains("the server's certificate does not verify against cluster-ca"), "\(line)")
            }
            #expect(!(status.stdout + status.stderr).contains(".build/"), "a path of the library's build: \(status.stdout)\(status.stderr)")
        }
    }
}
