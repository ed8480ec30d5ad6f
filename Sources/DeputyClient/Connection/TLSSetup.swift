import NIOCore
import NIOSSL

/// What one TLS connection needs, prepared off the event loop before connecting: the context
/// (with its trust roots read), the server name, and for pinned and trust-on-first-use modes
/// the fingerprint check and where a first-contact decision goes.
struct TLSSetup: Sendable {
    /// Trust on first use for a server without a known-hosts entry: asked after the greeting.
    struct FirstContactQuestion: Sendable {
        let knownHosts: KnownHosts
        let host: String
        let decide: DeputyTrust.FirstContactDecision
    }

    let context: NIOSSLContext
    let serverHostname: String?
    let check: PeerCertificateCheck?
    /// The fingerprint the leaf must have once chain verification has passed, for
    /// ``DeputyTrust/certificateFile(_:pinned:)``.
    let pinAfterVerification: Fingerprint?
    /// The known-hosts file the expected fingerprint came from, for the mismatch message.
    let knownHostsPath: String?
    let firstContact: FirstContactQuestion?

    /// Reads trust files and builds the TLS context for `endpoint`.
    ///
    /// Blocks on file I/O (certificate and known-hosts files): call from a task, not an event loop.
    init(
        endpoint: DeputyClientConfiguration.Endpoint,
        configuration: DeputyClientConfiguration
    ) throws(DeputyClientError) {
        let tlsConfiguration = try configuration.makeTLSConfiguration()
        do {
            self.context = try NIOSSLContext(configuration: tlsConfiguration)
        } catch {
            throw .invalidTrustConfiguration("could not set up TLS: \(error)")
        }
        let host = endpoint.host ?? ""
        // IP addresses must not be sent as SNI; without a name, swift-nio-ssl checks the
        // certificate against the address connected to instead.
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        self.serverHostname = host.isEmpty || isAddress ? nil : host

        let authority = endpoint.authority ?? endpoint.description
        if case .certificateFileAndPin(_, let pin) = configuration.trust.mode {
            self.pinAfterVerification = pin
        } else {
            self.pinAfterVerification = nil
        }
        switch configuration.trust.mode {
        case .systemDefault, .certificateFile, .certificateFileAndPin, .certificates:
            self.check = nil
            self.knownHostsPath = nil
            self.firstContact = nil
        case .pinned(let fingerprint):
            self.check = PeerCertificateCheck(expected: fingerprint)
            self.knownHostsPath = nil
            self.firstContact = nil
        case .knownHosts(let knownHosts, let decide):
            let remembered = try knownHosts.fingerprint(for: authority)
            self.check = PeerCertificateCheck(expected: remembered)
            self.knownHostsPath = knownHosts.path
            self.firstContact =
                remembered == nil
                ? FirstContactQuestion(knownHosts: knownHosts, host: KnownHosts.normalised(authority), decide: decide)
                : nil
        }
    }

    /// A new TLS handler for one connection; call on the channel's event loop.
    func makeHandler() throws -> NIOSSLClientHandler {
        if let check = self.check {
            return try NIOSSLClientHandler(
                context: self.context,
                serverHostname: self.serverHostname,
                customVerificationCallback: check.verify
            )
        }
        return try NIOSSLClientHandler(context: self.context, serverHostname: self.serverHostname)
    }

    /// The error to report for a failed connection attempt: a fingerprint mismatch seen during
    /// the handshake explains it better than the handshake failure itself.
    func explain(_ error: DeputyClientError, peer: String) -> DeputyClientError {
        guard let mismatch = self.check?.mismatch else { return error }
        return .fingerprintMismatch(
            peer,
            expected: mismatch.expected,
            actual: mismatch.actual,
            knownHostsPath: self.knownHostsPath
        )
    }
}
