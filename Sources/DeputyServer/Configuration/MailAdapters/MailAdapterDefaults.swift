/// Fixed bounds of the mail-server protocols, in one place.
public enum MailAdapterDefaults {
    /// The longest tcp_table reply line, as tcp_table(5) allows.
    public static let tcpTableMaximumReplyLength = 4_096
    /// The longest socketmap reply payload: Postfix 3.10 refuses longer ones by default.
    public static let socketmapMaximumReplyLength = 100_000
    /// The most attributes one policy block may hold; Postfix sends about 40.
    public static let policyMaximumAttributes = 256
    /// The most authentications one Dovecot auth connection may have in progress.
    public static let authMaximumPendingRequests = 16
    /// The most dict transactions one connection may have open.
    public static let dictMaximumOpenTransactions = 16
    /// The most rows one dict iteration returns when the client asks for no maximum.
    public static let dictMaximumIterationRows = 100_000
}
