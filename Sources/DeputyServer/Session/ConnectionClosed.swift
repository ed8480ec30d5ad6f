import Synchronization

/// Whether a session's connection has closed: set once by the connection, read by the work
/// it left waiting (a listing queued for ``ListingThread``), which then does nothing.
public final class ConnectionClosed: Sendable {
    private let flag = Atomic(false)

    /// A connection still open.
    public init() {}

    /// Marks the connection closed.
    public func set() { flag.store(true, ordering: .releasing) }

    /// Whether the connection has closed.
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}
