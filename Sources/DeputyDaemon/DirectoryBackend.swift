import DeputyCluster
import DeputyCore
import DeputyServer
import DeputyStore
import Logging
import ServiceLifecycle

/// Where the daemon's directory lives: the data directory's own store (one node, the
/// default), or, in cluster mode, the shared log in PostgreSQL followed by this node.
struct DirectoryBackend {
    /// The published directory.
    let live: LiveDirectory
    /// The store, on one node.
    let store: Store?
    /// The cluster node, in cluster mode.
    let node: ClusterNode?
    /// The data directory's lock, held for as long as the daemon runs.
    let lock: DataDirectoryLock

    /// Opens the backend `settings` name; the store takes over `lock`.
    static func open(_ settings: DaemonSettings, lock: DataDirectoryLock, logger: Logger) async throws -> DirectoryBackend {
        if let cluster = settings.cluster {
            let node = try await ClusterNode.open(settings: try ClusterSettings(cluster), dataDirectory: lock.path, logger: Logger(label: "deputyd.cluster"))
            return DirectoryBackend(live: node.live, store: nil, node: node, lock: lock)
        }
        try LocalClusterState.refuseSingleNodeUse(of: settings.data, by: "a start without the cluster settings")
        // The store refuses to start when the data directory or any file in it is open to
        // group or others.
        let store = try await Store.open(
            path: settings.data,
            configuration: StoreConfiguration(snapshotEveryRecords: settings.snapshotEvery, snapshotEverySeconds: settings.snapshotInterval),
            logger: Logger(label: "deputyd.store"), lock: lock
        )
        return DirectoryBackend(live: store.live, store: store, node: nil, lock: lock)
    }

    /// What the start found, for the startup line; `nil` when a single node's data
    /// directory is new and the organisation is still to be created.
    var loaded: StartupLine.Loaded? {
        if let node {
            return StartupLine.Loaded(node)
        }
        guard let store, store.directory.organization != nil else { return nil }
        return StartupLine.Loaded(store)
    }

    /// Why the backend can't serve as it should, for readiness; `nil` while it can. A
    /// single node's store fails when its journal can't be written; a cluster node when it
    /// stopped applying the shared log (a record it must not apply). PostgreSQL being away
    /// is no failure: the node serves from memory and refuses only writes.
    var failureCheck: @Sendable () async -> String? {
        if let node {
            return { await node.applier.haltReason.map { "this node stopped applying the shared log: \($0)" } }
        }
        let store = store!
        return { await store.isFailed ? "the journal could not be written; changes are refused until a restart (see the log)" : nil }
    }

    /// The single writer the sessions and adapters use.
    func committer(audit: AuditFileWriter?) -> any DirectoryCommitter {
        if let node { return ClusterCommitter(node: node, audit: audit) }
        return StoreCommitter(store: store!, audit: audit)
    }

    /// The service that keeps the backend's files and connections, first in the group so
    /// that it stops last.
    func maintenance(logger: Logger) -> any Service {
        if let node { return ClusterNodeService(node: node) }
        return StoreMaintenance(store: store!, logger: logger)
    }
}
