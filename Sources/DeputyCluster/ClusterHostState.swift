/// What one configured PostgreSQL server answered when a node looked for the primary.
///
/// A node asks every server in `cluster-hosts` each time it connects. A standby it cannot
/// reach is one it could not follow after a failover, so the node says so when it happens
/// (``UnreachableHosts``) and `deputyd cluster status` shows each server's answer.
public struct ClusterHostState: Sendable, Equatable, CustomStringConvertible {
    public enum Role: Sendable, Equatable {
        case primary
        case standby
        /// No connection, or no answer: why, as the connection attempt said.
        case unreachable(String)
    }

    public let endpoint: ClusterSettings.Endpoint
    public let role: Role

    public init(endpoint: ClusterSettings.Endpoint, role: Role) {
        self.endpoint = endpoint
        self.role = role
    }

    /// `db2.example.org:5432: standby`.
    public var description: String {
        switch role {
        case .primary: "\(endpoint): primary"
        case .standby: "\(endpoint): standby"
        case .unreachable(let reason): "\(endpoint): unreachable (\(reason))"
        }
    }
}
