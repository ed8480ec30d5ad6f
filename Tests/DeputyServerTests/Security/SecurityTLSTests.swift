import Foundation
import Testing

/// TLS as an outside client sees it: `openssl s_client` tries every TLS 1.2 cipher suite it
/// knows, and client certificates made with `openssl` itself.
@Suite("TLS from outside", .serialized)
struct SecurityTLSTests {
    /// The Mozilla "intermediate" TLS 1.2 suites (OpenSSL names).
    static let intermediate: Set<String> = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
    ]

    @Test("TLS 1.2 completes only with intermediate suites, for an ECDSA and an RSA certificate", arguments: ["ecdsa", "rsa"])
    func cipherSuites(keyType: String) async throws {
        let files = try OpenSSLFiles()
        var arguments: [String] = []
        if keyType == "rsa" {
            try await files.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", files.path("rsa.key"), "-out", files.path("rsa.pem"), "-days", "2", "-subj", "/CN=localhost"])
            arguments = ["--cert", files.path("rsa.pem"), "--key", files.path("rsa.key")]
        }
        let daemon = try await SecurityDaemon.start(arguments)
        let listed = try await files.openssl(["ciphers", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        let candidates = listed.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").map(String.init).filter { !$0.hasPrefix("TLS_") }
        #expect(candidates.count > 20, "openssl offers only \(candidates)")
        var accepted: Set<String> = []
        for cipher in candidates {
            let output = try await files.sClient(port: daemon.tlsPort, ["-tls1_2", "-cipher", "\(cipher):@SECLEVEL=0"], input: "PING\nQUIT\n")
            if output.contains("OK pong") { accepted.insert(cipher) }
        }
        let expected = Self.intermediate.filter { $0.contains(keyType == "rsa" ? "-RSA-" : "-ECDSA-") && !$0.hasPrefix("DHE") }
        #expect(accepted == expected.intersection(candidates), "accepted \(accepted.sorted())")
        #expect(accepted.isSubset(of: Self.intermediate))
        // TLS 1.3 with each of its suites.
        for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] {
            let output = try await files.sClient(port: daemon.tlsPort, ["-tls1_3", "-ciphersuites", suite], input: "PING\nQUIT\n")
            #expect(output.contains("OK pong"), "\(suite): \(output)")
        }
        #expect(await daemon.stop())
    }

    @Test("client certificates: none, an untrusted one, a trusted one for the service, and one for another name")
    func clientCertificates() async throws {
        let files = try OpenSSLFiles()
        try await files.makeAuthority("ca")
        try await files.makeClient("relay", signedBy: "ca")
        try await files.makeClient("other", signedBy: "ca")
        // Self-signed, with the right name but no trusted issuer.
        try await files.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", files.path("forged.key"), "-out", files.path("forged.pem"), "-days", "2", "-subj", "/CN=relay"])

        let daemon = try await SecurityDaemon.start(["--client-ca", files.path("ca.pem")])
        let admin = try await daemon.adminClient()
        #expect(try await admin.send("ADD SERVICE relay password=relay-pw") == ["OK service account relay added (revision 2)"])
        #expect(try await admin.send("ADD SERVICE other password=other-pw") == ["OK service account other added (revision 3)"])

        // No certificate: the connection works, BIND by certificate fails, a password works.
        var lines = try await files.session(port: daemon.tlsPort, certificate: nil, caFile: daemon.certificateFile, "BIND relay\nBIND relay relay-pw\nWHOAMI\nQUIT\n")
        #expect(lines.dropFirst() == ["ERR auth invalid credentials", "OK bound as relay", "* login=relay kind=service reauthenticated=yes", "OK", "OK bye"])

        // A trusted certificate for `relay`: BIND without a password, and still only queries.
        lines = try await files.session(port: daemon.tlsPort, certificate: "relay", caFile: daemon.certificateFile, "BIND relay\nWHOAMI\nQUERY SENDAS admin@example.test admin@example.test\nADD USER x@example.test\nQUIT\n")
        #expect(lines.dropFirst() == [
            "OK bound as relay", "* login=relay kind=service reauthenticated=no", "OK", "* allowed=yes via=own", "OK",
            "ERR denied [service-query-only] service accounts may only query", "OK bye",
        ])

        // A trusted certificate for another name binds as nobody else: not `relay`, not a user.
        lines = try await files.session(port: daemon.tlsPort, certificate: "other", caFile: daemon.certificateFile, "BIND relay\nBIND admin@example.test\nBIND other\nQUIT\n")
        #expect(lines.dropFirst() == ["ERR auth invalid credentials", "ERR auth invalid credentials", "OK bound as other", "OK bye"])

        // An untrusted certificate: the handshake fails, nothing is read.
        lines = try await files.session(port: daemon.tlsPort, certificate: "forged", caFile: daemon.certificateFile, "BIND relay\nQUIT\n")
        #expect(!lines.contains { $0.hasPrefix("OK") }, "\(lines)")

        // A deleted service can't bind by its certificate any more.
        #expect(try await WireTests.status(admin.send("DELETE SERVICE other")) == "OK service account other deleted")
        lines = try await files.session(port: daemon.tlsPort, certificate: "other", caFile: daemon.certificateFile, "BIND other\nQUIT\n")
        #expect(lines.dropFirst() == ["ERR auth invalid credentials", "OK bye"])
        #expect(await daemon.stop())

        // Without --client-ca no certificate is asked for, so none binds.
        let plain = try await SecurityDaemon.start()
        let plainAdmin = try await plain.adminClient()
        #expect(try await plainAdmin.send("ADD SERVICE relay password=relay-pw") == ["OK service account relay added (revision 2)"])
        lines = try await files.session(port: plain.tlsPort, certificate: "relay", caFile: plain.certificateFile, "BIND relay\nQUIT\n")
        #expect(lines.dropFirst() == ["ERR auth invalid credentials", "OK bye"])
        #expect(await plain.stop())
    }
}

/// A scratch directory of keys and certificates made with the `openssl` command.
struct OpenSSLFiles {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs `openssl` with no configuration file of the system's, so its defaults are its own.
    @discardableResult
    func openssl(_ arguments: [String], input: String = "") async throws -> String {
        let run = try await ProcessRunner.run("/usr/bin/openssl", arguments, input: input, environment: ["OPENSSL_CONF": "/dev/null"])
        guard run.status == 0 || arguments.first == "s_client" else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(run.error)") }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path(name))
        }
        return run.output
    }

    /// A self-signed certificate authority `name`.pem with its key.
    func makeAuthority(_ name: String) async throws {
        try await openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("\(name).key"),
            "-out", path("\(name).pem"), "-days", "2", "-subj", "/CN=Deputy test authority",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
    }

    /// A client certificate with common name `name`, issued by `authority`.
    func makeClient(_ name: String, signedBy authority: String) async throws {
        try await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)"])
        try "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        try await openssl([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(authority).pem"), "-CAkey", path("\(authority).key"),
            "-CAcreateserial", "-out", path("\(name).pem"), "-days", "2", "-extfile", path("client.ext"),
        ])
    }

    /// `openssl s_client` to a daemon's TLS port; its output.
    func sClient(port: Int, _ arguments: [String], input: String) async throws -> String {
        try await openssl(["s_client", "-quiet", "-connect", "127.0.0.1:\(port)"] + arguments, input: input)
    }

    /// A session over `openssl s_client` that verifies the daemon, presenting `certificate`
    /// (a name made by ``makeClient(_:signedBy:)``) if given; the reply lines.
    func session(port: Int, certificate: String?, caFile: String, _ input: String) async throws -> [String] {
        var arguments = ["-servername", "localhost", "-CAfile", caFile, "-verify_return_error"]
        if let certificate { arguments += ["-cert", path("\(certificate).pem"), "-key", path("\(certificate).key")] }
        let output = try await sClient(port: port, arguments, input: input)
        return output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("depth=") && !$0.hasPrefix("verify ") }
    }
}
