import Foundation

/// The limits of one mail-server listener.
///
/// These protocols have no way to tell a client it went too far, so a connection over a
/// limit is closed without a reply (and logged).
public struct MailAdapterLimits: Hashable, Sendable {
    /// Open connections at most by default. Postfix opens one per smtpd process and table,
    /// so this is far above what a busy server needs.
    public static let defaultMaximumConnections = 256
    /// The longest request by default, in bytes: one netstring, one line, or one whole
    /// policy block. Dovecot's auth lines fit in 16 KiB, and so does every key and block.
    public static let defaultMaximumRequestSize = 16_384
    /// Seconds a connection may stay silent by default. Postfix keeps idle table and policy
    /// connections for up to 300 s (`smtpd_policy_service_max_idle`).
    public static let defaultIdleTimeout: TimeInterval = 330

    /// Seconds a milter connection may stay silent at least: libmilter's own default
    /// (`smfi_settimeout`). Postfix says nothing on it while a client uploads a message,
    /// since the milter skips every event between MAIL FROM and the headers.
    public static let minimumMilterIdleTimeout: TimeInterval = 7210
    /// Seconds a Dovecot auth connection may stay silent at least: Postfix holds one per
    /// smtpd process between logins and does not open it again before an AUTH. A day
    /// outlasts any smtpd process, yet still frees a slot a client forgot.
    public static let minimumDovecotAuthIdleTimeout: TimeInterval = 86_400

    /// Open connections at most; one more is closed at once.
    public var maximumConnections: Int
    /// The longest request in bytes; a longer one closes the connection.
    public var maximumRequestSize: Int
    /// Seconds of silence before a connection is closed.
    public var idleTimeout: TimeInterval

    /// Creates limits, by default the documented defaults.
    public init(
        maximumConnections: Int = defaultMaximumConnections,
        maximumRequestSize: Int = defaultMaximumRequestSize,
        idleTimeout: TimeInterval = defaultIdleTimeout
    ) {
        self.maximumConnections = maximumConnections
        self.maximumRequestSize = maximumRequestSize
        self.idleTimeout = idleTimeout
    }

    /// Seconds of silence before a connection of a listener of `kind` is closed: milter
    /// and Dovecot auth connections, which Postfix keeps silent on purpose, at least
    /// ``minimumMilterIdleTimeout`` and ``minimumDovecotAuthIdleTimeout``.
    public func idleTimeout(for kind: MailAdapterKind) -> TimeInterval {
        switch kind {
        case .dovecotAuth: max(idleTimeout, Self.minimumDovecotAuthIdleTimeout)
        case .milter: max(idleTimeout, Self.minimumMilterIdleTimeout)
        case .socketmap, .tcpTable, .policy, .dovecotDict: idleTimeout
        }
    }
}
