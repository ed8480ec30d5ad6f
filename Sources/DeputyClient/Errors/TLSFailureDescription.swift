import NIOSSL

/// Turns a TLS handshake error into a sentence a person can act on, followed by the library's
/// own description for the details.
enum TLSFailureDescription {
    static func describe(_ error: any Error) -> String {
        let raw = String(describing: error)
        guard let hint = Self.hint(for: error, raw: raw) else { return raw }
        return "\(hint) (\(raw))"
    }

    private static func hint(for error: any Error, raw: String) -> String? {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's certificate is not valid for this host name or address"
        }
        if raw.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted"
        }
        if raw.contains("PROTOCOL_VERSION") || raw.contains("UNSUPPORTED_PROTOCOL") {
            return "the server offers no TLS version the client accepts (TLS 1.2 or later)"
        }
        if raw.contains("WRONG_VERSION_NUMBER") {
            return "the server did not answer in TLS; is this a plaintext port?"
        }
        if raw.contains("NO_SHARED_CIPHER") || raw.contains("HANDSHAKE_FAILURE") {
            return "the server refused the handshake; it may share no cipher suite with the client"
        }
        return nil
    }
}
