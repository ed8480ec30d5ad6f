import DeputyCore
import DeputyStore
import Foundation
import Logging
import PostgresNIO

/// One Deputy node in cluster mode: an applier that follows the shared log into memory, and
/// a writer that appends this node's changes to it.
///
/// Reads never touch PostgreSQL: ``live`` answers from memory whether or not the database is
/// reachable. Writes go through ``commit(_:context:)``.
public final class ClusterNode: Sendable {
    /// The directory readers query.
    public let live: LiveDirectory
    public let applier: ClusterApplier
    public let writer: ClusterWriter
    public let settings: ClusterSettings
    /// Whether the node started from its local state file rather than a shared snapshot.
    public let startedFromLocalState: Bool
    /// The applier's and the writer's, shared: what it last found of each server.
    private let connector: PrimaryConnector

    private init(applier: ClusterApplier, writer: ClusterWriter, connector: PrimaryConnector, settings: ClusterSettings, startedFromLocalState: Bool) {
        self.applier = applier
        self.writer = writer
        self.connector = connector
        self.settings = settings
        self.live = applier.live
        self.startedFromLocalState = startedFromLocalState
    }

    /// The configured servers this node could not reach when it last looked.
    var unreachableHosts: Set<ClusterSettings.Endpoint> { connector.unreachableEndpoints }

    /// Prepares a node: from the local state file in `dataDirectory` when there is one (so
    /// it can serve before, or without, the database), else from the newest shared snapshot,
    /// waiting for a primary at most `bootstrapTimeout`. Nothing follows the log until
    /// ``run()``.
    public static func open(
        settings: ClusterSettings, dataDirectory: String?, bootstrapTimeout: Duration = .seconds(30), logger: Logger
    ) async throws -> ClusterNode {
        let connector = try PrimaryConnector(settings: settings, logger: logger)
        let localState = dataDirectory.map { LocalClusterState(dataDirectory: $0) }
        var position: ClusterPosition?
        if let localState {
            do {
                position = try localState.load()
            } catch {
                logger.warning("the local cluster state can't be used; starting from the shared snapshot", metadata: ["error": "\(error)"])
            }
        }
        let fromLocal = position != nil
        if position == nil {
            if let dataDirectory { try LocalClusterState.refuseSingleNodeDirectory(dataDirectory) }
            position = try await bootstrap(connector: connector, timeout: bootstrapTimeout, logger: logger)
        }
        // Before the node serves, so that a single-node start, check, backup, restore or
        // init refuses the directory from the first moment, not only once the first state
        // file is written (after a thousand records). A node that can't write it does not
        // start: its data directory would not be protected from single-node use.
        if let dataDirectory {
            do {
                try LocalClusterState.markAsNode(dataDirectory, name: settings.nodeName)
            } catch {
                throw ClusterError(.incompatible, "marking \(dataDirectory) as this node's data directory failed: \(error)")
            }
        }
        let applier = ClusterApplier(position: position!, settings: settings, connector: connector, localState: localState, logger: logger)
        let writer = ClusterWriter(applier: applier, settings: settings, connector: connector, logger: logger)
        logger.info("cluster node ready", metadata: ["cluster.sequence": "\(position!.sequence)", "cluster.from": "\(fromLocal ? "local state" : "shared snapshot")"])
        return ClusterNode(applier: applier, writer: writer, connector: connector, settings: settings, startedFromLocalState: fromLocal)
    }

    /// The newest shared snapshot, from the first primary that answers within `timeout`.
    private static func bootstrap(connector: PrimaryConnector, timeout: Duration, logger: Logger) async throws -> ClusterPosition {
        let deadline = ContinuousClock.now + timeout
        var backoff = Duration.milliseconds(50)
        var said: String?
        while true {
            do {
                let connection = try await connector.connectToPrimary(purpose: .bootstrap)
                defer { Task { try? await connection.close() } }
                // Each with a deadline: a primary that stops answering is left for the next
                // try, or for the standby once it is promoted.
                try await withDeadline(max(deadline - .now, .seconds(1)), "checking the schema", on: connection) { try await connection.requireSchema(logger: logger) }
                let newest = try await withDeadline(ClusterApplier.snapshotTransferLimit, "reading the newest shared snapshot", on: connection) { try await connection.newestSnapshot(logger: logger) }
                guard let stored = newest else {
                    throw ClusterError(.incompatible, "the database holds no shared snapshot; run deputyd cluster init first")
                }
                return try ClusterPosition(snapshot: stored, source: "the shared snapshot at \(stored.sequence)")
            } catch let error as ClusterError where error.kind == .incompatible {
                throw error
            } catch {
                let reason = PrimaryConnector.describe(error)
                if ContinuousClock.now + backoff > deadline {
                    throw ClusterError(.unavailable, "no shared snapshot could be read: \(reason)")
                }
                // Said at once, and again when it changes: a new node that can't start (a
                // wrong password, a certificate that does not verify) tells the operator why
                // while it still tries, not only when it gives up.
                if reason != said {
                    said = reason
                    logger.warning("the shared snapshot can't be read yet; trying again until \(timeout) have passed", metadata: ["error": "\(reason)"])
                }
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
            }
        }
    }

    /// Follows the log and keeps the write connection until the task is cancelled; then
    /// saves the local state.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.applier.run() }
            group.addTask { await self.writer.run() }
            group.addTask { await self.checkHosts() }
        }
    }

    /// Asks every configured server, every ``ClusterSettings/hostCheckInterval``, whether it
    /// answers: the applier and the writer look only when they connect, which a healthy
    /// node does rarely, so a standby lost or back would otherwise go unreported (and
    /// `deputy_cluster_hosts_unreachable` stale) until the next failover.
    ///
    /// A look that finds more than one primary drops the write connection first (see
    /// ``SeveralPrimaries``), so that no write waits on a primary nobody follows.
    private func checkHosts() async {
        while !Task.isCancelled {
            // Pacing, not waiting for a condition: the next look is due at a time.
            do { try await Task.sleep(for: settings.hostCheckInterval) } catch { return }
            let hosts = await connector.surveyHosts()
            if hosts.filter({ $0.role == .primary }).count > 1 {
                await writer.dropConnectionForSeveralPrimaries()
            }
            connector.report(hosts)
        }
    }

    /// The configured servers that answered as primaries when this node last looked.
    var primaryHosts: [ClusterSettings.Endpoint] { connector.primaryEndpoints }

    /// Appends `command` and returns the core's answer on this node (see ``ClusterWriter``).
    public func commit(_ command: Command, context: CommandContext) async throws -> Result<CommandResult, DirectoryError> {
        try await writer.commit(command, context: context)
    }
}

/// Creating the cluster's tables and its first shared snapshot.
public enum ClusterSetup {
    /// What ``initialize(settings:directory:logger:)`` did.
    public struct Report: Sendable {
        /// The sequence the log starts after (the directory's revision).
        public let sequence: Int64
        /// The chain's genesis digest: SHA-256 of the first snapshot's bytes.
        public let genesis: [UInt8]
        public let snapshotBytes: Int
    }

    /// Creates the schema on the primary and stores `directory` as the first shared
    /// snapshot, in one transaction. Refuses a database that already has the schema.
    public static func initialize(settings: ClusterSettings, directory: Directory, logger: Logger) async throws -> Report {
        let connector = try PrimaryConnector(settings: settings, logger: logger)
        let connection = try await connector.connectToPrimary(purpose: .initialize)
        do {
            let report = try await initialize(connection, directory: directory, node: settings.nodeName, logger: logger)
            try? await connection.close()
            return report
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static func initialize(_ connection: PostgresConnection, directory: Directory, node: String, logger: Logger) async throws -> Report {
        if let version = try await connection.schemaVersion(logger: logger) {
            throw ClusterError(.incompatible, "the database already holds a Deputy cluster (schema version \(version)); nothing was changed")
        }
        let bytes = try PortableSnapshot.encode(directory)
        let genesis = HashChain.sha256(bytes)
        let sequence = Int64(directory.revision)
        try await connection.execute("BEGIN", logger: logger)
        do {
            for statement in ClusterSchema.statements { try await connection.execute(statement, logger: logger) }
            let genesisBuffer = ByteBuffer(bytes: genesis)
            try await connection.query("INSERT INTO deputy_head (seq, digest) VALUES (\(sequence), \(genesisBuffer))", logger: logger)
            try await connection.putSnapshot(at: sequence, digest: genesis, body: bytes, node: node, logger: logger)
            try await connection.execute("COMMIT", logger: logger)
        } catch {
            try? await connection.execute("ROLLBACK", logger: logger)
            throw error
        }
        return Report(sequence: sequence, genesis: genesis, snapshotBytes: bytes.count)
    }
}

/// What the database says about the cluster, for `deputyd cluster status`.
public struct ClusterStatusReport: Sendable {
    public struct Node: Sendable {
        public let name: String
        public let applied: Int64
        /// Whether the node's digest at its applied sequence is the log's.
        public let matchesLog: Bool?
        public let secondsSinceSeen: Double
    }

    public let head: Int64
    public let newestSnapshot: Int64?
    public let oldestLogRow: Int64?
    public let synchronousStandbys: Int
    /// What each configured server answered, in the order of `cluster-hosts`.
    public let hosts: [ClusterHostState]
    public let nodes: [Node]

    /// No one server answered as the primary: what each did, which is what an operator
    /// needs most then.
    public struct NoPrimary: Error, CustomStringConvertible {
        /// What each configured server answered, in the order of `cluster-hosts`.
        public let hosts: [ClusterHostState]
        public let reason: ClusterError
        public var description: String { reason.description }
    }

    /// Reads the report from the primary.
    public static func read(settings: ClusterSettings, logger: Logger) async throws -> ClusterStatusReport {
        // The report names every server that can't be reached: the connector's own
        // warning about them would only say it again, on standard error.
        var quiet = logger
        quiet.logLevel = .error
        let connector = try PrimaryConnector(settings: settings, logger: quiet)
        let (found, hosts) = await connector.lookForPrimary(purpose: .bootstrap)
        let connection: PostgresConnection
        switch found {
        case .success(let primary): connection = primary
        case .failure(let reason): throw NoPrimary(hosts: hosts, reason: reason)
        }
        defer { Task { try? await connection.close() } }
        try await connection.requireSchema(logger: logger)
        let head = try await connection.head(logger: logger)
        var nodes: [Node] = []
        let rows = try await connection.query(
            "SELECT name, applied, applied_digest, extract(epoch FROM now() - seen)::float8 FROM deputy_node ORDER BY name", logger: logger
        )
        var reported: [(String, Int64, [UInt8], Double)] = []
        for try await (name, applied, digest, age) in rows.decode((String, Int64, ByteBuffer, Double).self) {
            reported.append((name, applied, Array(buffer: digest), age))
        }
        for (name, applied, digest, age) in reported {
            let logged = try await connection.digest(at: applied, logger: logger)
            nodes.append(Node(name: name, applied: applied, matchesLog: logged.map { $0 == digest }, secondsSinceSeen: age))
        }
        var standbys = 0
        for try await count in try await connection.query("SELECT count(*)::int8 FROM pg_stat_replication WHERE sync_state = 'sync'", logger: logger).decode(Int64.self) {
            standbys = Int(count)
        }
        return ClusterStatusReport(
            head: head.sequence, newestSnapshot: try await connection.newestSnapshotSequence(logger: logger),
            oldestLogRow: try await connection.oldestRow(logger: logger), synchronousStandbys: standbys, hosts: hosts, nodes: nodes
        )
    }
}

extension ClusterSetup {
    /// The whole directory at the head of the log, as snapshot bytes: the newest shared
    /// snapshot with every later record applied and its chain checked. What
    /// `deputyd cluster backup` writes; `deputyd restore` makes it one node's data
    /// directory again.
    public static func export(settings: ClusterSettings, logger: Logger) async throws -> (sequence: Int64, bytes: [UInt8], counts: DirectoryCounts) {
        let connector = try PrimaryConnector(settings: settings, logger: logger)
        let connection = try await connector.connectToPrimary(purpose: .bootstrap)
        do {
            try await connection.requireSchema(logger: logger)
            guard let stored = try await connection.newestSnapshot(logger: logger) else {
                throw ClusterError(.incompatible, "the database holds no shared snapshot; run deputyd cluster init first")
            }
            let applier = ClusterApplier(
                position: try ClusterPosition(snapshot: stored, source: "the shared snapshot at \(stored.sequence)"), settings: settings,
                connector: connector, localState: nil, logger: logger
            )
            try await applier.catchUp(connection, 0)
            if let halted = await applier.haltReason { throw ClusterError(.incompatible, halted) }
            let (sequence, bytes) = try await applier.snapshotBytes()
            let counts = DirectoryCounts(await applier.position.directory)
            try? await connection.close()
            return (sequence, bytes, counts)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
