import Foundation

/// How a node reaches PostgreSQL and paces its work.
public struct ClusterSettings: Sendable {
    /// One PostgreSQL server. The host is also the name its TLS certificate must carry.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `HOST:PORT`, or `HOST` for port 5432; `nil` when it is neither.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2, !parts[0].isEmpty else { return nil }
            host = String(parts[0])
            if parts.count == 2 {
                guard let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
                self.port = port
            } else {
                port = 5432
            }
        }

        public var description: String { "\(host):\(port)" }
    }

    /// The servers to try: the primary is the one that is not in recovery.
    public var endpoints: [Endpoint]
    public var database: String
    public var user: String
    /// The password, read from a file by whoever builds the settings; never logged.
    public var password: String
    /// Certificate authorities (PEM) that sign the servers' certificates; the system's
    /// trust store without it. TLS 1.2 or newer, certificate and host name verified, always.
    public var certificateAuthorities: String?
    /// This node's name in the log (`deputy_log.node`) and in `deputy_node`.
    public var nodeName: String
    /// How long an append may queue behind other nodes' appends (PostgreSQL's
    /// `lock_timeout`): past it, the append fails cleanly and the write is refused.
    public var lockTimeout: Duration = .seconds(2)
    /// How long a write waits for its append and for this node to apply it before it is
    /// answered `unavailable` (its outcome is then resolved by request id later).
    public var writeTimeout: Duration = .seconds(5)
    /// How often the applier looks at the log without a notification: the fallback for a
    /// lost one, and the heartbeat that reports this node's progress.
    public var pollInterval: Duration = .seconds(1)
    /// How long to wait for a server to answer a connection attempt.
    public var connectTimeout: Duration = .seconds(2)
    /// How long the applier waits before it tries again after a failure that reconnecting
    /// does not mend soon: a cluster schema this build does not know, or a shared snapshot
    /// it can't load (or none where it needs one). Seldom, since a try may read the whole
    /// shared snapshot from the primary; meanwhile the node serves the directory it has.
    public var incompatibleRetry: Duration = .seconds(30)
    /// How often a running node asks every configured server whether it answers, besides
    /// each time it looks for the primary: so that a standby lost (or back) is reported
    /// within this time, not at the next reconnect.
    public var hostCheckInterval: Duration = .seconds(30)
    /// Upload a shared snapshot after this many applied records, at most once per
    /// ``sharedSnapshotInterval``: counted for the cluster, not for each node (a node does
    /// not upload while the newest shared snapshot, whoever stored it, is fewer records
    /// behind or younger), and one node at a time.
    public var sharedSnapshotEvery = 10_000
    public var sharedSnapshotInterval: Duration = .seconds(30)
    /// Write the local state file after this many applied records, at most once per
    /// ``localSnapshotInterval``: a node killed with SIGKILL replays what came after it.
    public var localSnapshotEvery = 1_000
    public var localSnapshotInterval: Duration = .seconds(5)
    /// A snapshot (local or shared) waits at least this many times as long as the last one
    /// took: snapshots of a large directory under heavy writes then take at most a
    /// twentieth of a core (``SnapshotPacing``).
    public var snapshotCostFactor = 20
    /// Group commit: when at least ``groupCommitSiblings`` writes are under way on this node
    /// and fewer than ``groupCommitTarget`` are queued, an append waits this long for more
    /// to join it (as PostgreSQL's `commit_delay`). Larger appends cost PostgreSQL and every
    /// node's applier less a write; a lone writer never waits.
    public var groupCommitDelay: Duration = .milliseconds(6)
    public var groupCommitSiblings = 4
    public var groupCommitTarget = 16

    public init(
        endpoints: [Endpoint], database: String, user: String, password: String, certificateAuthorities: String?, nodeName: String
    ) {
        self.endpoints = endpoints
        self.database = database
        self.user = user
        self.password = password
        self.certificateAuthorities = certificateAuthorities
        self.nodeName = nodeName
    }
}

extension ClusterSettings: CustomStringConvertible {
    /// Everything but the password.
    public var description: String {
        "ClusterSettings(endpoints: \(endpoints), database: \(database), user: \(user), node: \(nodeName))"
    }
}
