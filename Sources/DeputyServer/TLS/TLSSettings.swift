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
    public static func serverConfiguration(_ certificate: ServerCertificate) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) }, privateKey: .privateKey(certificate.key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = tls12CipherSuites
        return configuration
    }
}
