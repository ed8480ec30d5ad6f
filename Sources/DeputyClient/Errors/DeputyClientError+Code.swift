extension DeputyClientError {
    /// The kind of a ``DeputyClientError``.
    ///
    /// A struct with static members rather than a public enum, so that new codes can be added
    /// without breaking exhaustive `switch`es in callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidEndpoint, insecureEndpoint, invalidTrustConfiguration, knownHostsWriteFailed
            case connectionFailed, connectTimeout, tlsHandshakeFailed, certificateNotTrusted, fingerprintMismatch, hostRejected
            case invalidGreeting, connectionClosed, requestTimeout, replyTooLarge, protocolViolation
            case invalidRequest
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The name of the code, for logs.
        public var description: String {
            self.base.rawValue
        }

        // MARK: - Configuration

        /// A server address string could not be parsed.
        public static let invalidEndpoint = Code(.invalidEndpoint)
        /// A plaintext endpoint names a host that is not a loopback address.
        public static let insecureEndpoint = Code(.insecureEndpoint)
        /// A CA file or known-hosts file could not be read or is malformed.
        public static let invalidTrustConfiguration = Code(.invalidTrustConfiguration)
        /// A newly accepted fingerprint could not be written to the known-hosts file.
        public static let knownHostsWriteFailed = Code(.knownHostsWriteFailed)
        /// A request could not be built: the verb or a key is not valid on the wire.
        public static let invalidRequest = Code(.invalidRequest)

        // MARK: - Connecting

        /// The TCP or Unix socket connection could not be made.
        public static let connectionFailed = Code(.connectionFailed)
        /// Connecting, the TLS handshake and the greeting together took longer than allowed.
        public static let connectTimeout = Code(.connectTimeout)
        /// The TLS handshake failed for a reason other than trust: no TLS version or cipher in
        /// common, or no TLS at all on that port.
        public static let tlsHandshakeFailed = Code(.tlsHandshakeFailed)
        /// The server's certificate is not trusted: no trusted certificate issued it, it has
        /// expired or is not yet valid, or it is not for the host name or address connected to.
        public static let certificateNotTrusted = Code(.certificateNotTrusted)
        /// The server's certificate does not have the pinned or remembered fingerprint.
        public static let fingerprintMismatch = Code(.fingerprintMismatch)
        /// The server was unknown and its fingerprint was not accepted.
        public static let hostRejected = Code(.hostRejected)
        /// The server did not greet with `OK deputyd <version> ready`.
        public static let invalidGreeting = Code(.invalidGreeting)

        // MARK: - Requests

        /// The connection closed or broke before the reply arrived, or was already closed.
        public static let connectionClosed = Code(.connectionClosed)
        /// No reply arrived within the request timeout; the connection was closed.
        public static let requestTimeout = Code(.requestTimeout)
        /// A reply line or a reply's record count exceeded the configured limits.
        public static let replyTooLarge = Code(.replyTooLarge)
        /// The server sent a line that breaks the reply grammar, or a reply nobody asked for.
        public static let protocolViolation = Code(.protocolViolation)
    }
}
