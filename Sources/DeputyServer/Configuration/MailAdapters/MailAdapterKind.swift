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
    /// The milter protocol, for Postfix's `smtpd_milters` (and Sendmail's `INPUT_MAIL_FILTER`):
    /// checks each message's `From:` and `Sender:` headers; what unauthenticated mail gets.
    case milter(MilterUnauthenticated)

    /// The flag-style name, for example `tcp-table(senders)`.
    public var description: String {
        switch self {
        case .socketmap: "socketmap"
        case .tcpTable(let map): "tcp-table(\(map.rawValue))"
        case .policy: "policy"
        case .dovecotAuth: "dovecot-auth"
        case .dovecotDict: "dovecot-dict"
        case .milter: "milter"
        }
    }

    /// The setting that configures listeners of this kind.
    public var setting: Setting {
        switch self {
        case .socketmap: .socketmap
        case .tcpTable: .tcpTable
        case .policy: .policy
        case .dovecotAuth: .dovecotAuth
        case .dovecotDict: .dovecotDict
        case .milter: .milter
        }
    }
}

/// What the milter does with a message sent without SMTP AUTH.
public enum MilterUnauthenticated: String, Hashable, Sendable, CaseIterable {
    /// Left alone: mail from outside is not the milter's business.
    case accept
    /// Refused when a `From:` address is one of the organisation's (owned, or in one of its
    /// domains): only its users may use those, and they log in.
    case reject
}
