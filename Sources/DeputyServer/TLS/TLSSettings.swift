import NIOSSL

/// The daemon's TLS policy: TLS 1.2 at least (swift-nio-ssl's default minimum is 1.0), and
/// for TLS 1.2 only the Mozilla "intermediate" cipher suites: forward-secret AEAD ciphers.
public enum TLSSettings {
    /// The TLS 1.2 cipher suites offered, in order of preference. TLS 1.3 suites are fixed by BoringSSL.
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The server configuration for `certificate`.
    ///
    /// With `clientCertificateAuthorities`, the server asks clients for a certificate: one
    /// that is presented must chain to one of them or the handshake fails; a client that
    /// presents none is let in and binds with a password as usual.
    public static func serverConfiguration(_ certificate: ServerCertificate, clientCertificateAuthorities: [NIOSSLCertificate] = []) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) }, privateKey: .privateKey(certificate.key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = tls12CipherSuites
        if !clientCertificateAuthorities.isEmpty {
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .certificates(clientCertificateAuthorities)
            // Tells clients which authorities are accepted, so they pick the right certificate.
            configuration.sendCANameList = true
        }
        return configuration
    }
}
