import Synchronization

/// Which configured PostgreSQL servers a node could not reach at its last look for the
/// primary, kept so that the node speaks when that set changes rather than at every
/// connection: a standby the node cannot reach is one it could not follow after a failover
/// (a firewall, a certificate, a `listen_addresses` left at localhost), and nothing else
/// would tell the operator before that failover.
final class UnreachableHosts: Sendable {
    /// What changed, for the log.
    enum Change: Equatable {
        /// These servers cannot be reached, where the last look found others (or none).
        case unreachable([ClusterHostState])
        /// Every server answered again.
        case allReachable
    }

    private let last = Mutex<Set<ClusterSettings.Endpoint>>([])

    /// The servers the last look could not reach.
    var current: Set<ClusterSettings.Endpoint> { last.withLock { $0 } }

    /// Records what one look for the primary found; the change to report, if any.
    func update(_ hosts: [ClusterHostState]) -> Change? {
        let down = hosts.filter { if case .unreachable = $0.role { true } else { false } }
        let now = Set(down.map(\.endpoint))
        let before = last.withLock { last in
            defer { last = now }
            return last
        }
        guard now != before else { return nil }
        return now.isEmpty ? .allReachable : .unreachable(down)
    }
}
