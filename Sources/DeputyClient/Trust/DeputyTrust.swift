import NIOSSL

/// How the client decides to trust a server's TLS certificate.
///
/// ```swift
/// .systemDefault                                    // the system's CA roots and the host name
/// .certificateFile("/etc/deputy/ca.pem")            // --ca FILE: exactly these certificates
/// .pinned(Fingerprint("sha256:3A:7F:...")!)        // --fingerprint: exactly this leaf
/// .certificateFile(path, pinned: fingerprint)       // --ca and --fingerprint: both must hold
/// .knownHosts(KnownHosts(path: path)) { contact in  // trust on first use, like ssh
///     await askUser("Trust \(contact.host) with \(contact.fingerprint)?")
/// }
/// ```
///
/// With ``systemDefault``, ``certificateFile(_:)`` and ``certificates(_:)`` the chain is
/// verified and the certificate must name the host (or IP address) connected to. A file may
/// hold a CA certificate or the server's own self-signed certificate, such as the one `deputyd`
/// generates.
///
/// ``certificateFile(_:pinned:)`` checks both: the chain and name against the file, and then
/// the leaf's fingerprint against the pin.
///
/// With ``pinned(_:)`` and ``knownHosts(_:onFirstContact:)`` chain and name verification are
/// replaced by comparing the SHA-256 of the leaf certificate's DER encoding with the expected
/// fingerprint; the handshake still proves that the server holds the certificate's key.
public struct DeputyTrust: Sendable {
    /// Decides whether to trust a server met for the first time; `true` accepts and remembers it.
    public typealias FirstContactDecision = @Sendable (FirstContact) async -> Bool

    enum Mode: Sendable {
        case systemDefault
        case certificateFile(String)
        case certificateFileAndPin(String, Fingerprint)
        case certificates([NIOSSLCertificate])
        case pinned(Fingerprint)
        case knownHosts(KnownHosts, FirstContactDecision)
    }

    let mode: Mode

    private init(_ mode: Mode) {
        self.mode = mode
    }

    /// The system's default CA roots, with host name verification.
    public static var systemDefault: DeputyTrust {
        DeputyTrust(.systemDefault)
    }

    /// Exactly the certificates in the PEM file at `path` (a CA, or the server's own
    /// certificate), with host name verification. The file is read on each connection.
    public static func certificateFile(_ path: String) -> DeputyTrust {
        DeputyTrust(.certificateFile(path))
    }

    /// Both checks: the certificates in the PEM file at `path`, with host name verification,
    /// as ``certificateFile(_:)``, and then a leaf whose SHA-256 fingerprint is `fingerprint`,
    /// as ``pinned(_:)``. A certificate that passes one and not the other is refused: by the
    /// file with ``DeputyClientError/Code/certificateNotTrusted``, by the pin with
    /// ``DeputyClientError/Code/fingerprintMismatch``.
    public static func certificateFile(_ path: String, pinned fingerprint: Fingerprint) -> DeputyTrust {
        DeputyTrust(.certificateFileAndPin(path, fingerprint))
    }

    /// Exactly `certificates` as roots, with host name verification.
    public static func certificates(_ certificates: [NIOSSLCertificate]) -> DeputyTrust {
        DeputyTrust(.certificates(certificates))
    }

    /// Only a leaf certificate whose SHA-256 fingerprint is `fingerprint`.
    ///
    /// Any other certificate fails the handshake with ``DeputyClientError/Code/fingerprintMismatch``.
    public static func pinned(_ fingerprint: Fingerprint) -> DeputyTrust {
        DeputyTrust(.pinned(fingerprint))
    }

    /// Trust on first use, remembering fingerprints in `knownHosts`.
    ///
    /// A server with an entry must present the remembered certificate, or the connection is
    /// refused with ``DeputyClientError/Code/fingerprintMismatch``. For a server without one,
    /// `onFirstContact` is called once the handshake and greeting are done and before any
    /// request is sent, outside the connect timeout, so it may take as long as a person
    /// needs to answer a prompt. If it returns `true` the fingerprint is written to
    /// `knownHosts`; if `false` the connection is closed with
    /// ``DeputyClientError/Code/hostRejected``.
    public static func knownHosts(
        _ knownHosts: KnownHosts,
        onFirstContact: @escaping FirstContactDecision
    ) -> DeputyTrust {
        DeputyTrust(.knownHosts(knownHosts, onFirstContact))
    }
}
