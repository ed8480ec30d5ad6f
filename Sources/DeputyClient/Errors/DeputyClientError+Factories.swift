import DeputyProtocol

// The only places messages are written. Each takes exactly what it shows, so it is easy to
// check that no request argument (and so no password) can reach a message.
extension DeputyClientError {
    // MARK: - Configuration

    static func invalidEndpoint(_ reason: String) -> DeputyClientError {
        DeputyClientError(.invalidEndpoint, "invalid server address: \(reason)")
    }

    static func insecureEndpoint(_ endpoint: DeputyClientConfiguration.Endpoint) -> DeputyClientError {
        DeputyClientError(
            .insecureEndpoint,
            "refusing to connect to \(endpoint) without TLS: plaintext is only allowed to loopback "
                + "addresses and Unix sockets, as passwords would cross the network in the clear"
        )
    }

    static func invalidTrustConfiguration(_ reason: String) -> DeputyClientError {
        DeputyClientError(.invalidTrustConfiguration, reason)
    }

    static func knownHostsWriteFailed(path: String, reason: String) -> DeputyClientError {
        DeputyClientError(.knownHostsWriteFailed, "could not write the known-hosts file \(path): \(reason)")
    }

    static func invalidRequest() -> DeputyClientError {
        DeputyClientError(
            .invalidRequest,
            "invalid request: the verb must be an alphanumeric word, and named-argument keys must "
                + "be made of letters, digits, '_' and '-' without repeating"
        )
    }

    // MARK: - Connecting

    static func connectionFailed(_ peer: String, _ error: any Error) -> DeputyClientError {
        DeputyClientError(.connectionFailed, "could not connect to \(peer): \(SocketFailureDescription.reason(error))", detail: "\(error)")
    }

    static func connectTimeout(_ peer: String, after timeout: Duration) -> DeputyClientError {
        DeputyClientError(
            .connectTimeout,
            "no greeting from \(peer) within \(Self.format(timeout)) of starting to connect"
        )
    }

    static func tlsHandshakeFailed(_ peer: String, _ reason: String, detail: String? = nil) -> DeputyClientError {
        DeputyClientError(.tlsHandshakeFailed, "the TLS handshake with \(peer) failed: \(reason)", detail: detail)
    }

    /// `why` says what is wrong with the certificate, as a clause: `it has expired`.
    static func certificateNotTrusted(_ peer: String, _ why: String, detail: String? = nil) -> DeputyClientError {
        DeputyClientError(.certificateNotTrusted, "the certificate of \(peer) is not trusted: \(why)", detail: detail)
    }

    static func fingerprintMismatch(
        _ peer: String,
        expected: Fingerprint,
        actual: Fingerprint,
        knownHostsPath: String?
    ) -> DeputyClientError {
        var lines = [
            "WARNING: THE CERTIFICATE OF \(peer) DOES NOT MATCH THE EXPECTED FINGERPRINT.",
            "Someone could be intercepting the connection, or the server's certificate was replaced.",
            "expected: \(expected)",
            "actual:   \(actual)",
        ]
        if let knownHostsPath {
            lines.append("The expected fingerprint was remembered in \(knownHostsPath).")
            lines.append(
                "If the server's certificate was replaced on purpose, remove the line for \(peer) "
                    + "from that file and connect again."
            )
        } else {
            lines.append("The expected fingerprint is the pinned one; the connection was refused.")
        }
        return DeputyClientError(.fingerprintMismatch, lines.joined(separator: "\n"))
    }

    static func hostRejected(_ peer: String, _ fingerprint: Fingerprint) -> DeputyClientError {
        DeputyClientError(
            .hostRejected,
            "the certificate of \(peer) (\(fingerprint)) was not accepted; the connection was closed"
        )
    }

    static func invalidGreeting(_ peer: String, _ detail: String) -> DeputyClientError {
        DeputyClientError(.invalidGreeting, "\(peer) did not greet as a Deputy server: \(detail)")
    }

    // MARK: - Requests

    /// `before` names what was awaited, such as `the reply to BIND` or `the greeting`.
    static func connectionClosed(_ peer: String, before awaited: String) -> DeputyClientError {
        DeputyClientError(.connectionClosed, "the connection to \(peer) closed before \(awaited)")
    }

    /// For a request sent on a connection that has ended, because of `reason` if known.
    static func closedBeforeSending(_ peer: String, verb: String, reason: DeputyClientError?) -> DeputyClientError {
        guard let reason else {
            return .connectionClosed(peer, before: "the reply to \(verb)")
        }
        return DeputyClientError(.connectionClosed, "the connection to \(peer) is closed: \(reason.message)")
    }

    static func closedByServer(_ peer: String, _ status: String) -> DeputyClientError {
        DeputyClientError(.connectionClosed, "\(peer) closed the session: \(status)")
    }

    static func connectionBroken(_ peer: String, _ error: any Error) -> DeputyClientError {
        DeputyClientError(.connectionClosed, "the connection to \(peer) broke: \(SocketFailureDescription.reason(error))", detail: "\(error)")
    }

    static func requestTimeout(_ peer: String, verb: String, after timeout: Duration) -> DeputyClientError {
        DeputyClientError(
            .requestTimeout,
            "no reply from \(peer) to \(verb) within \(Self.format(timeout)); the connection was closed"
        )
    }

    static func replyTooLarge(_ peer: String, _ error: ProtocolError) -> DeputyClientError {
        DeputyClientError(
            .replyTooLarge,
            "a reply from \(peer) exceeded the client's limits (\(error.message)); the connection was closed"
        )
    }

    static func protocolViolation(_ peer: String, _ detail: String) -> DeputyClientError {
        DeputyClientError(
            .protocolViolation,
            "\(peer) broke the protocol: \(detail); the connection was closed"
        )
    }

    // MARK: - Formatting

    /// `250 ms`, `5 s` or `2.5 s`.
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1_000 {
            return "\(milliseconds) ms"
        }
        if milliseconds % 1_000 == 0 {
            return "\(milliseconds / 1_000) s"
        }
        return "\(Double(milliseconds) / 1_000) s"
    }
}
