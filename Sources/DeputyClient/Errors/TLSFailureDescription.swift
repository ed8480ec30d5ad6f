import NIOSSL

/// Turns a TLS handshake error into one a person can act on: a certificate the trust
/// settings refuse is ``DeputyClientError/Code/certificateNotTrusted``, anything else
/// ``DeputyClientError/Code/tlsHandshakeFailed`` with a hint. The library's description
/// goes into ``DeputyClientError/detail``.
enum TLSFailureDescription {
    static func error(_ error: any Error, peer: String) -> DeputyClientError {
        let raw = String(describing: error)
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return .certificateNotTrusted(peer, "it is not issued for the host name or address connected to", detail: raw)
        }
        if raw.contains("CERTIFICATE_VERIFY_FAILED") {
            return .certificateNotTrusted(peer, "no certificate you trust issued it, or it is out of date", detail: raw)
        }
        return .tlsHandshakeFailed(peer, hint(raw), detail: raw)
    }

    private static func hint(_ raw: String) -> String {
        if raw.contains("PROTOCOL_VERSION") || raw.contains("UNSUPPORTED_PROTOCOL") {
            return "the server offers no TLS version the client accepts (TLS 1.2 or later)"
        }
        if raw.contains("WRONG_VERSION_NUMBER") {
            return "the server did not answer in TLS; is this a plaintext port?"
        }
        if raw.contains("NO_SHARED_CIPHER") || raw.contains("HANDSHAKE_FAILURE") {
            return "the server refused the handshake; it may share no cipher suite with the client"
        }
        return "the server and the client could not agree on a secure connection"
    }
}
