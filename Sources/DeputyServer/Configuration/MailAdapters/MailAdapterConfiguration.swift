/// The mail-server listeners of the daemon; none unless configured.
///
/// None of these protocols authenticates its client, so each listener must be reachable
/// from this machine only: a loopback address (127.0.0.0/8, `::1`, `localhost`) or a Unix
/// socket. ``validate()`` refuses anything else.
public struct MailAdapterConfiguration: Hashable, Sendable {
    /// The listeners, bound in this order.
    public var listeners: [MailAdapterListener]
    /// Postfix's `recipient_delimiter`, when the mail servers use address extensions.
    public var recipientDelimiter: RecipientDelimiter?

    /// Creates a configuration.
    public init(listeners: [MailAdapterListener] = [], recipientDelimiter: RecipientDelimiter? = nil) {
        self.listeners = listeners
        self.recipientDelimiter = recipientDelimiter
    }

    /// Whether there is anything to bind.
    public var isEmpty: Bool { listeners.isEmpty }

    /// Checks what can be checked before binding.
    ///
    /// - Throws: ``ConfigurationError`` for a non-loopback address, a dict listener that is
    ///   not a Unix socket (Dovecot's `proxy` driver connects to sockets only), an address
    ///   used twice, or a limit that is not positive.
    public func validate() throws {
        var seen: Set<ListenAddress> = []
        for listener in listeners {
            let name = "the \(listener.kind) listener \(listener.address)"
            guard listener.address.isLoopback else {
                throw ConfigurationError("\(name) is not a loopback address; mail-server protocols have no authentication, so they are allowed on 127.0.0.0/8, ::1, localhost or a Unix socket only")
            }
            if listener.kind == .dovecotDict, case .tcp = listener.address {
                throw ConfigurationError("\(name) needs a Unix socket path: Dovecot's proxy dict connects to Unix sockets only")
            }
            // Port 0 asks the system for a free port, so several listeners may give it.
            guard seen.insert(listener.address).inserted || Self.isEphemeral(listener.address) else {
                throw ConfigurationError("\(name) uses an address that another listener uses")
            }
            let limits = listener.limits
            guard limits.maximumConnections > 0, limits.maximumRequestSize > 0, limits.idleTimeout > 0 else {
                throw ConfigurationError("\(name) needs positive limits")
            }
        }
    }

    private static func isEphemeral(_ address: ListenAddress) -> Bool {
        if case .tcp(_, 0) = address { return true }
        return false
    }
}
