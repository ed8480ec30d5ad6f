import NIOCore
import NIOSSL
import Synchronization

/// The verification callback for pinned and trust-on-first-use connections: compares the
/// leaf certificate's fingerprint with the expected one and remembers what it saw, so that the
/// connection can explain a failed handshake or ask about an unknown server afterwards.
final class PeerCertificateCheck: Sendable {
    /// The fingerprint the leaf must have, or `nil` to accept any leaf and decide later.
    let expected: Fingerprint?

    private let observed = Mutex<Fingerprint?>(nil)

    init(expected: Fingerprint?) {
        self.expected = expected
    }

    /// The leaf fingerprint seen during the handshake, if it got that far.
    var observedFingerprint: Fingerprint? {
        self.observed.withLock { $0 }
    }

    /// The fingerprint seen if it differs from the expected one.
    var mismatch: (expected: Fingerprint, actual: Fingerprint)? {
        guard let expected = self.expected, let actual = self.observedFingerprint, actual != expected else {
            return nil
        }
        return (expected, actual)
    }

    /// Called by the TLS handler on its event loop with the peer's chain, leaf first.
    func verify(_ chain: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>) {
        guard let leaf = chain.first, let fingerprint = try? Fingerprint(certificate: leaf) else {
            promise.succeed(.failed)
            return
        }
        self.observed.withLock { $0 = fingerprint }
        if let expected = self.expected, fingerprint != expected {
            promise.succeed(.failed)
        } else {
            promise.succeed(.certificateVerified)
        }
    }
}
