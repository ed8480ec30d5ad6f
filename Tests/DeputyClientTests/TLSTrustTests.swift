import DeputyClient
import DeputyProtocol
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import X509

@Suite("TLS trust: CA files, pins, known hosts, versions", .timeLimit(.minutes(1)))
struct TLSTrustTests {
    // MARK: - CA files

    @Test("--ca with the server's own self-signed certificate connects")
    func caFileWithServerCertificate() async throws {
        let certificate = try TestCertificate.selfSigned()
        try await withTemporaryDirectory { directory in
            let path = try certificate.writePEM(in: directory, name: "server.pem")
            try await withScriptedServer(.tls(certificate)) { server in
                try await server.withTLSConnection(trust: .certificateFile(path)) { connection in
                    let pong = try await connection.ping()
                    #expect(pong.status.isOK)
                }
            }
        }
    }

    @Test("--ca with the CA that issued the server's certificate connects, by IP and by name")
    func caFileWithIssuingAuthority() async throws {
        let authority = try TestCertificate.authority()
        let leaf = try authority.issueServerCertificate()
        try await withTemporaryDirectory { directory in
            let path = try authority.writePEM(in: directory, name: "ca.pem")
            try await withScriptedServer(.tls(leaf)) { server in
                for host in ["127.0.0.1", "localhost"] {
                    try await server.withTLSConnection(trust: .certificateFile(path), host: host) { connection in
                        let pong = try await connection.ping()
                        #expect(pong.status.isOK)
                    }
                }
            }
        }
    }

    @Test("--ca with an unrelated CA fails the handshake")
    func caFileWithUnrelatedAuthority() async throws {
        let certificate = try TestCertificate.selfSigned()
        let unrelated = try TestCertificate.selfSigned(commonName: "Someone Else")
        try await withTemporaryDirectory { directory in
            let path = try unrelated.writePEM(in: directory, name: "other.pem")
            try await withScriptedServer(.tls(certificate)) { server in
                let error = await clientError {
                    _ = try await server.connectTLS(trust: .certificateFile(path))
                }
                let presented = try #require(Fingerprint(digest: certificate.derSHA256))
                #expect(error?.code == .certificateNotTrusted)
                #expect(
                    error?.message == "the certificate of 127.0.0.1:\(server.port) is not trusted: no certificate in \(path) issued it; the server presented \(presented)"
                )
                #expect(error?.detail?.contains("CERTIFICATE_VERIFY_FAILED") == true, "the library's account is kept for --verbose")
                #expect(server.receivedLines.isEmpty)
            }
        }
    }

    @Test("--ca with a trusted certificate for another name fails the handshake")
    func caFileWithWrongName() async throws {
        let authority = try TestCertificate.authority()
        let leaf = try authority.issueServerCertificate(names: [.dnsName("directory.example.org")])
        let presented = try #require(Fingerprint(digest: leaf.derSHA256))
        try await withTemporaryDirectory { directory in
            let path = try authority.writePEM(in: directory, name: "ca.pem")
            try await withScriptedServer(.tls(leaf)) { server in
                for host in ["127.0.0.1", "localhost"] {
                    let error = await clientError {
                        _ = try await server.connectTLS(trust: .certificateFile(path), host: host)
                    }
                    #expect(error?.code == .certificateNotTrusted)
                    #expect(error?.message.hasSuffix("is not trusted: it is not issued for \(host); the server presented \(presented)") == true, "\(error?.message ?? "")")
                }
            }
        }
    }

    @Test("TLS to a plaintext port fails the handshake with a hint")
    func tlsToPlaintextPort() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            let certificate = try TestCertificate.selfSigned()
            let pin = try #require(Fingerprint(digest: certificate.derSHA256))
            let error = await clientError {
                _ = try await server.connectTLS(trust: .pinned(pin))
            }
            #expect(error?.code == .tlsHandshakeFailed)
            #expect(error?.message.contains("plaintext port") == true)
        }
    }

    @Test("the system roots do not trust a self-signed server")
    func systemRootsRejectSelfSigned() async throws {
        try await withScriptedServer(.tls(try TestCertificate.selfSigned())) { server in
            let error = await clientError {
                _ = try await DeputyConnection.connect(to: server.tlsEndpoint, configuration: testConfiguration())
            }
            #expect(error?.code == .certificateNotTrusted)
            #expect(error?.message.contains("no certificate authority this system trusts issued it") == true, "\(error?.message ?? "")")
        }
    }

    @Test("a missing or empty --ca file is a trust configuration error")
    func unreadableCAFile() async throws {
        try await withTemporaryDirectory { directory in
            let empty = directory.appendingPathComponent("empty.pem")
            try Data("no certificate here\n".utf8).write(to: empty)
            for path in [directory.appendingPathComponent("missing.pem").path, empty.path] {
                let error = await clientError {
                    _ = try await DeputyConnection.connect(
                        to: .tls(host: "127.0.0.1", port: 9),
                        configuration: testConfiguration(trust: .certificateFile(path))
                    )
                }
                #expect(error?.code == .invalidTrustConfiguration)
                #expect(error?.message.contains(path) == true)
            }
            let missing = directory.appendingPathComponent("missing.pem").path
            let error = await clientError {
                _ = try await DeputyConnection.connect(to: .tls(host: "127.0.0.1", port: 9), configuration: testConfiguration(trust: .certificateFile(missing)))
            }
            #expect(error?.message == "cannot read the CA file \(missing): no such file")
        }
    }

    @Test("a certificate the CA file issued, but out of date, is refused saying when it expired")
    func expiredCertificate() async throws {
        let expired = try TestCertificate.selfSigned(validFor: -86_400 ... -3_600)
        try await withTemporaryDirectory { directory in
            let path = try expired.writePEM(in: directory, name: "server.pem")
            try await withScriptedServer(.tls(expired)) { server in
                let error = await clientError {
                    _ = try await server.connectTLS(trust: .certificateFile(path))
                }
                #expect(error?.code == .certificateNotTrusted)
                #expect(error?.message.contains("is not trusted: it expired on ") == true, "\(error?.message ?? "")")
            }
        }
    }

    // MARK: - A CA file and a pin together

    @Test("--ca with --fingerprint checks both: the right pair connects, a wrong pin or a wrong CA is refused before any request")
    func caFileAndPin() async throws {
        let certificate = try TestCertificate.selfSigned()
        let right = try #require(Fingerprint(digest: certificate.derSHA256))
        let wrong = try #require(Fingerprint(digest: try TestCertificate.selfSigned().derSHA256))
        let unrelated = try TestCertificate.selfSigned(commonName: "Someone Else")
        try await withTemporaryDirectory { directory in
            let path = try certificate.writePEM(in: directory, name: "server.pem")
            let otherPath = try unrelated.writePEM(in: directory, name: "other.pem")
            try await withScriptedServer(.tls(certificate)) { server in
                try await server.withTLSConnection(trust: .certificateFile(path, pinned: right)) { connection in
                    let pong = try await connection.ping()
                    #expect(pong.status.isOK)
                }
                let linesBefore = server.receivedLines.count
                let pinRefused = await clientError {
                    _ = try await server.connectTLS(trust: .certificateFile(path, pinned: wrong))
                }
                #expect(pinRefused?.code == .fingerprintMismatch)
                #expect(pinRefused?.message.contains("expected: \(wrong)") == true)
                let caRefused = await clientError {
                    _ = try await server.connectTLS(trust: .certificateFile(otherPath, pinned: right))
                }
                #expect(caRefused?.code == .certificateNotTrusted)
                #expect(server.receivedLines.count == linesBefore, "no request reached the server")
            }
        }
    }

    // MARK: - Pins

    @Test("a pinned fingerprint that matches connects, in either written form")
    func matchingPin() async throws {
        let certificate = try TestCertificate.selfSigned()
        let canonical = try #require(Fingerprint(digest: certificate.derSHA256))
        let plainHex = certificate.derSHA256.map { String(format: "%02x", $0) }.joined()
        try await withScriptedServer(.tls(certificate)) { server in
            for text in [canonical.description, plainHex] {
                let pin = try #require(Fingerprint(text))
                try await server.withTLSConnection(trust: .pinned(pin)) { connection in
                    let pong = try await connection.ping()
                    #expect(pong.status.isOK)
                }
            }
        }
    }

    @Test("a pinned fingerprint that does not match fails with fingerprintMismatch")
    func mismatchedPin() async throws {
        let certificate = try TestCertificate.selfSigned()
        let actual = try #require(Fingerprint(digest: certificate.derSHA256))
        let pinned = try #require(Fingerprint(digest: try TestCertificate.selfSigned().derSHA256))
        try await withScriptedServer(.tls(certificate)) { server in
            let error = await clientError {
                _ = try await server.connectTLS(trust: .pinned(pinned))
            }
            #expect(error?.code == .fingerprintMismatch)
            #expect(error?.message.contains("expected: \(pinned)") == true)
            #expect(error?.message.contains("actual:   \(actual)") == true)
            #expect(server.receivedLines.isEmpty)
        }
    }

    // MARK: - Known hosts

    @Test("known hosts: the first connection asks and remembers, the next does not ask, a change is refused")
    func knownHostsFlow() async throws {
        let original = try TestCertificate.selfSigned()
        let replacement = try TestCertificate.selfSigned()
        let originalFingerprint = try #require(Fingerprint(digest: original.derSHA256))
        let replacementFingerprint = try #require(Fingerprint(digest: replacement.derSHA256))
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("config/known_hosts").path
            let knownHosts = KnownHosts(path: path)
            let contacts = Mutex<[DeputyTrust.FirstContact]>([])
            let trust = DeputyTrust.knownHosts(knownHosts) { contact in
                contacts.withLock { $0.append(contact) }
                return true
            }

            try await withScriptedServer(.tls(original)) { server in
                let host = "127.0.0.1:\(server.port)"

                // First contact: asked once, then remembered.
                try await server.withTLSConnection(trust: trust) { connection in
                    let pong = try await connection.ping()
                    #expect(pong.status.isOK)
                }
                let asked = contacts.withLock { $0 }
                let expected = DeputyTrust.FirstContact(
                    host: host,
                    fingerprint: originalFingerprint,
                    knownHostsPath: path
                )
                #expect(asked == [expected])
                #expect(try knownHosts.fingerprint(for: host) == originalFingerprint)
                let stored = try String(contentsOfFile: path, encoding: .utf8)
                #expect(stored == "\(host) \(originalFingerprint)\n")

                // Known: not asked again.
                try await server.withTLSConnection(trust: trust) { connection in
                    let pong = try await connection.ping()
                    #expect(pong.status.isOK)
                }
                #expect(contacts.withLock { $0.count } == 1)

                // Changed certificate: refused loudly, not asked, file untouched.
                try server.useCertificate(replacement)
                let error = await clientError {
                    _ = try await server.connectTLS(trust: trust)
                }
                #expect(error?.code == .fingerprintMismatch)
                let message = error?.message ?? ""
                #expect(message.contains("WARNING"))
                #expect(message.contains(host))
                #expect(message.contains("expected: \(originalFingerprint)"))
                #expect(message.contains("actual:   \(replacementFingerprint)"))
                #expect(message.contains(path))
                #expect(contacts.withLock { $0.count } == 1)
                #expect(try String(contentsOfFile: path, encoding: .utf8) == stored)
                #expect(server.receivedLines == ["PING", "PING"])
            }
        }
    }

    @Test("known hosts: a declined first contact closes the connection and remembers nothing")
    func knownHostsDeclined() async throws {
        let certificate = try TestCertificate.selfSigned()
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("known_hosts").path
            let asked = Mutex(0)
            let trust = DeputyTrust.knownHosts(KnownHosts(path: path)) { _ in
                asked.withLock { $0 += 1 }
                return false
            }
            try await withScriptedServer(.tls(certificate)) { server in
                let error = await clientError {
                    _ = try await server.connectTLS(trust: trust)
                }
                #expect(error?.code == .hostRejected)
                let fingerprint = try #require(Fingerprint(digest: certificate.derSHA256))
                #expect(error?.message.contains(fingerprint.description) == true)
                #expect(asked.withLock { $0 } == 1)
                #expect(!FileManager.default.fileExists(atPath: path))
                #expect(server.receivedLines.isEmpty)
                try await waitUntil("the server saw the close") { server.state.withLock { $0.connections.isEmpty } }
            }
        }
    }

    // MARK: - Versions

    @Test("the client's TLS configuration never allows less than TLS 1.2")
    func minimumVersionInConfiguration() throws {
        let certificate = try TestCertificate.selfSigned()
        let pin = try #require(Fingerprint(digest: certificate.derSHA256))
        let trusts: [DeputyTrust] = [
            .systemDefault,
            .certificates([certificate.nioCertificate]),
            .pinned(pin),
            .knownHosts(KnownHosts(path: "/nonexistent/known_hosts")) { _ in false },
        ]
        for trust in trusts {
            let tls = try DeputyClientConfiguration(trust: trust).makeTLSConfiguration()
            #expect(tls.minimumTLSVersion == .tlsv12)
            #expect(tls.maximumTLSVersion == nil)
        }
        let strict = try DeputyClientConfiguration(minimumTLSVersion: .tls13).makeTLSConfiguration()
        #expect(strict.minimumTLSVersion == .tlsv13)
        // swift-nio-ssl's own default is lower; the client must not inherit it.
        #expect(TLSConfiguration.makeClientConfiguration().minimumTLSVersion != .tlsv12)
    }

    @Test("a server that speaks only TLS 1.1 is refused")
    func tls11ServerIsRefused() async throws {
        let certificate = try TestCertificate.selfSigned()
        let pin = try #require(Fingerprint(digest: certificate.derSHA256))
        let onlyTLS11: @Sendable (inout TLSConfiguration) -> Void = { configuration in
            configuration.minimumTLSVersion = .tlsv1
            configuration.maximumTLSVersion = .tlsv11
        }
        try await withScriptedServer(.tls(certificate), tlsTweak: onlyTLS11) { server in
            // Control: a client that allows TLS 1.1 does get the greeting, so the refusal
            // below is about the version and nothing else.
            let line = try await Self.firstLineOverLegacyTLS(port: server.port)
            #expect(line == "OK deputyd 9.9.9-test ready")

            let error = await clientError {
                _ = try await server.connectTLS(trust: .pinned(pin))
            }
            #expect(error?.code == .tlsHandshakeFailed)
            #expect(error?.message.hasSuffix("failed: the server offers no TLS version the client accepts (TLS 1.2 or later)") == true)
            #expect(error?.detail?.contains("PROTOCOL_VERSION") == true)
        }
    }

    /// Connects with swift-nio-ssl's permissive defaults (TLS 1.0 minimum, no verification)
    /// and returns the first line the server sends.
    private static func firstLineOverLegacyTLS(port: Int) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv1
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try operations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1_024)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, _ in
            var lines = inbound.makeAsyncIterator()
            guard let line = try await lines.next() else { return "" }
            return String(buffer: line)
        }
    }
}
