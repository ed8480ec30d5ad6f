import Synchronization

/// The configured PostgreSQL servers that answered as primaries at a node's last look, kept
/// so that the node speaks when a second one appears, and again when it is gone.
///
/// Two primaries are a standby promoted while the old primary still runs (no fencing). A
/// node's writer already connected to the old one would append there: with synchronous
/// replication those commits wait for a standby that no longer follows it, and time out.
/// So once a look finds two, the node drops its write connection, and its next look for
/// the primary refuses both until one is fenced: writes get `ERR unavailable` at once.
final class SeveralPrimaries: Sendable {
    /// What changed, for the log.
    enum Change: Equatable {
        /// More than one server answers as primary, where the last look found one or none.
        case appeared([ClusterSettings.Endpoint])
        /// One server, or none, answers as primary again.
        case resolved
    }

    private let last = Mutex<[ClusterSettings.Endpoint]>([])

    /// The servers that answered as primaries at the last look.
    var current: [ClusterSettings.Endpoint] { last.withLock { $0 } }

    /// Records what one look found; the change to report, if any.
    func update(_ hosts: [ClusterHostState]) -> Change? {
        let now = hosts.filter { $0.role == .primary }.map(\.endpoint)
        let before = last.withLock { last in
            defer { last = now }
            return last
        }
        switch (before.count > 1, now.count > 1) {
        case (false, true): return .appeared(now)
        case (true, true) where Set(now) != Set(before): return .appeared(now)
        case (true, false): return .resolved
        default: return nil
        }
    }
}
