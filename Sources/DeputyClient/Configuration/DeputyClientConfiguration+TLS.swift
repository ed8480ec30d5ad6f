import Foundation
import NIOSSL

extension DeputyClientConfiguration {
    /// The TLS 1.2 cipher suites offered: forward-secret AEAD suites only, the same list
    /// `deputyd` accepts. TLS 1.3 suites are fixed by BoringSSL.
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The swift-nio-ssl client configuration used for TLS endpoints.
    ///
    /// Its `minimumTLSVersion` is always TLS 1.2 or later (swift-nio-ssl's own client default
    /// is TLS 1.0). For ``DeputyTrust/certificateFile(_:)`` the file is read here.
    ///
    /// With ``DeputyTrust/pinned(_:)`` and ``DeputyTrust/knownHosts(_:onFirstContact:)`` the
    /// fingerprint comparison is done by a verification callback installed on each connection's
    /// TLS handler, so this configuration alone does not authenticate the server.
    ///
    /// - Throws: ``DeputyClientError`` with code `invalidTrustConfiguration` if a certificate
    ///   file cannot be read or holds no certificate.
    public func makeTLSConfiguration() throws(DeputyClientError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = self.minimumTLSVersion.tlsVersion
        tls.cipherSuites = Self.tls12CipherSuites
        switch self.trust.mode {
        case .systemDefault:
            tls.trustRoots = .default
            tls.certificateVerification = .fullVerification
        case .certificateFile(let path), .certificateFileAndPin(let path, _):
            // With a pin, it is compared once this verification has passed (see TLSSetup).
            tls.trustRoots = .certificates(try Self.loadCertificates(path))
            tls.certificateVerification = .fullVerification
        case .certificates(let certificates):
            guard !certificates.isEmpty else {
                throw .invalidTrustConfiguration("the list of trusted certificates is empty")
            }
            tls.trustRoots = .certificates(certificates)
            tls.certificateVerification = .fullVerification
        case .pinned, .knownHosts:
            // The verification callback replaces chain verification; the roots are never
            // consulted, and the name is not checked since the fingerprint is the identity.
            tls.trustRoots = .certificates([])
            tls.certificateVerification = .noHostnameVerification
        }
        return tls
    }

    private static func loadCertificates(_ path: String) throws(DeputyClientError) -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .invalidTrustConfiguration("cannot read the CA file \(path): \(reason)")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw DeputyClientError(.invalidTrustConfiguration, "the CA file \(path) is not a PEM file of certificates", detail: "\(error)")
        }
        guard !certificates.isEmpty else {
            throw .invalidTrustConfiguration("the CA file \(path) holds no PEM certificate")
        }
        return certificates
    }
}
