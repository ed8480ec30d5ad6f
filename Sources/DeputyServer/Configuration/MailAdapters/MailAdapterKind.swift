/// The protocol a mail-server listener speaks.
public enum MailAdapterKind: Hashable, Sendable, CustomStringConvertible {
    /// Postfix's socketmap table: `socketmap:inet:HOST:PORT:NAME` or `socketmap:unix:PATH:NAME`,
    /// every map of ``MailMap`` on one listener, chosen by the request's map name.
    case socketmap
    /// Postfix's tcp_table: `tcp:HOST:PORT`, one map per listener since the protocol carries
    /// no map name.
    case tcpTable(MailMap)
    /// Postfix's policy delegation: `check_policy_service inet:HOST:PORT` or `unix:PATH`.
    case policy
    /// Dovecot's authentication protocol, for Postfix's `smtpd_sasl_type = dovecot`.
    case dovecotAuth
    /// Dovecot's dict protocol, for the `proxy` driver behind `acl_sharing_map`.
    case dovecotDict

    /// The flag-style name, for example `tcp-table(senders)`.
    public var description: String {
        switch self {
        case .socketmap: "socketmap"
        case .tcpTable(let map): "tcp-table(\(map.rawValue))"
        case .policy: "policy"
        case .dovecotAuth: "dovecot-auth"
        case .dovecotDict: "dovecot-dict"
        }
    }
}
