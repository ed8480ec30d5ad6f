/// One policy delegation request: the `name=value` attributes of one block.
///
/// ```
/// request=smtpd_access_policy
/// protocol_state=RCPT
/// sender=boss@example.org
/// sasl_username=secretary@example.org
/// (empty line)
/// ```
///
/// Attributes this server does not use are kept but ignored, as the protocol requires.
public struct PolicyRequest: Hashable, Sendable {
    /// Every attribute; a repeated name keeps its last value.
    public let attributes: [String: String]

    /// Creates a request.
    public init(attributes: [String: String]) {
        self.attributes = attributes
    }

    /// `request`: `smtpd_access_policy` for smtpd.
    public var request: String? { attributes["request"] }
    /// `protocol_state`, for example `RCPT`.
    public var protocolState: String? { attributes["protocol_state"] }
    /// `sender`: the envelope sender, empty for the null sender.
    public var sender: String { attributes["sender"] ?? "" }
    /// `sasl_username`: the SMTP AUTH login, empty when not logged in.
    public var saslUsername: String { attributes["sasl_username"] ?? "" }
    /// `instance`: the same for every request about one message.
    public var instance: String? { attributes["instance"] }
}
