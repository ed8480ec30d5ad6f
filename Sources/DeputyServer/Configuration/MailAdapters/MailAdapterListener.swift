/// One mail-server listener: what it speaks, where, and its limits.
public struct MailAdapterListener: Hashable, Sendable {
    /// The protocol.
    public var kind: MailAdapterKind
    /// Where it binds: a loopback TCP address or a Unix socket.
    public var address: ListenAddress
    /// Its limits.
    public var limits: MailAdapterLimits

    /// Creates a listener.
    public init(kind: MailAdapterKind, address: ListenAddress, limits: MailAdapterLimits = MailAdapterLimits()) {
        self.kind = kind
        self.address = address
        self.limits = limits
    }
}
