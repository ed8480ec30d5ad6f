import DeputyCore
import DeputyStore
import Foundation
import Logging
import Metrics
import PostgresNIO

/// Appends this node's commands to the log, with group commit, and answers each with the
/// result this node's applier produced for it.
///
/// One append is in flight per node; commands that arrive meanwhile queue and the next
/// append carries them all (one commit, one wait for the synchronous standby). Every record
/// has a request id. An append is never cancelled: when it takes longer than
/// ``ClusterSettings/writeTimeout`` or its connection breaks, its commands are answered
/// `indeterminate`, the connection is dropped, and the ids are resolved with
/// `deputy_resolve` once a new connection to the primary is up (and logged). While there is
/// no connection to the primary, writes are refused at once with `unavailable`: never an OK
/// for a change that is not committed on the primary and flushed on a synchronous standby.
///
/// An append that returns is not yet proof of the standby: PostgreSQL lets a commit's wait
/// for the synchronous standby go when an operator cancels it, or when a failover manager
/// empties `synchronous_standby_names` while the standby is away, and the commit then
/// returns normally with the change on the primary's disk only. So after each append the
/// writer asks the primary how far its synchronous standby has flushed the WAL, and answers
/// `indeterminate` unless a standby holds the whole append within
/// ``ClusterSettings/writeTimeout``.
public actor ClusterWriter {
    private enum Link {
        case down(reason: String)
        /// A connection to the primary, and its session's server process there.
        case up(PostgresConnection, SessionBackend)
    }

    /// The highest sequence known to be in the log of the server the link is up to: its
    /// head when the connection was made, then each append's last sequence. Not the
    /// applier's revision: a node that applied a phantom before a failover is ahead of the
    /// new primary's log.
    private var headSeen: Int64 = 0

    /// An append whose outcome is not known yet: one of its request ids, a sequence the
    /// log's head had reached on that server before it was sent (so the append, if it was
    /// made, holds a later one), and the session it was sent on.
    private struct Unknown {
        let id: UUID
        let after: Int64
        let backend: SessionBackend
    }

    /// What became of appends whose outcome was unknown, counted since the node started.
    public struct Resolutions: Sendable, Equatable {
        /// In the log: made.
        public var stored = 0
        /// Not in the log, and never will be: not made.
        public var notStored = 0
        /// Not in the log, whose rows from the append's time on were removed once newer
        /// shared snapshots were stored: the log can no longer tell.
        public var untold = 0
    }

    private struct Queued {
        let body: [UInt8]
        let id: UUID
        let continuation: CheckedContinuation<Int64, any Error>
    }

    private enum AppendOutcome: Sendable {
        case appended([Int64])
        /// Committed on the primary at these sequences, but no synchronous standby confirmed
        /// it; `connectionFailed` when the connection broke or stopped answering meanwhile.
        case unconfirmed([Int64], reason: String, connectionFailed: Bool)
        /// PostgreSQL refused the append; nothing was written.
        case refused(String)
        /// The connection broke or the append took too long: it may have been committed.
        case lost(String)
    }

    private let applier: ClusterApplier
    private let settings: ClusterSettings
    private let connector: PrimaryConnector
    private let logger: Logger
    private let coder = LoggedCommandCoder()

    private var link = Link.down(reason: "not connected yet")
    private var queue: [Queued] = []
    private var appending = false
    /// Writes between ``commitReturningSequence(_:context:)``'s start and its answer.
    private var underWay = 0
    /// Appends whose outcome is not known yet.
    private var unresolved: [Unknown] = []
    /// What became of those resolved so far.
    public private(set) var resolutions = Resolutions()
    /// The run loop, waiting while the link is up.
    private var linkWatcher: CheckedContinuation<Void, Never>?

    init(applier: ClusterApplier, settings: ClusterSettings, connector: PrimaryConnector, logger: Logger) {
        self.applier = applier
        self.settings = settings
        self.connector = connector
        self.logger = logger
        ClusterMetrics.writerConnected.record(0)
    }

    /// Whether writes are accepted now.
    public var isConnected: Bool {
        if case .up = link { return true }
        return false
    }

    /// Request ids whose appends' outcome is still to be resolved.
    public var unresolvedCount: Int { unresolved.count }

    // MARK: - Writing

    /// Appends `command`, waits until this node has applied it, and returns the core's
    /// answer there. Throws ``ClusterError`` (`unavailable`, `indeterminate`) or the
    /// ``DeputyStore/StoreError`` of a command that cannot be logged; never returns a
    /// success for a change that is not committed.
    public func commit(_ command: Command, context: CommandContext) async throws -> Result<CommandResult, DirectoryError> {
        try await commitReturningSequence(command, context: context).result
    }

    /// ``commit(_:context:)``, with the sequence of the command's record in the log: the
    /// directory's revision once it is applied.
    public func commitReturningSequence(_ command: Command, context: CommandContext) async throws -> (result: Result<CommandResult, DirectoryError>, sequence: Int64) {
        // Two calls on the applier per write, each a hop to its executor: one before the
        // append (which also says whether it has stopped), one for the answer.
        underWay += 1
        defer { underWay -= 1 }
        let id = UUID()
        let record = LoggedCommand(context: context, command: command)
        let body = try coder.encode(record)
        if let halted = await applier.expect(id, pending: ClusterApplier.PendingRecord(record: record, body: body)) {
            throw ClusterError(.incompatible, "this node stopped applying the log (\(halted)); writes are refused here")
        }
        let sequence: Int64
        do {
            guard case .up = link else { throw refusal() }
            sequence = try await withCheckedThrowingContinuation { continuation in
                queue.append(Queued(body: body, id: id, continuation: continuation))
                if !appending {
                    appending = true
                    Task { await self.drain() }
                }
            }
        } catch {
            await applier.forget(id)
            throw error
        }
        switch await applier.outcome(of: id, at: sequence, timeout: settings.writeTimeout) {
        case .applied(let result):
            return (result, sequence)
        case .notYetApplied:
            ClusterMetrics.indeterminate.increment()
            throw ClusterError(.indeterminate, "the change was stored as revision \(sequence), but this node has not applied it within \(settings.writeTimeout); it will")
        case .unknown:
            throw ClusterError(.indeterminate, "the change was stored as revision \(sequence); this node loaded a snapshot that holds it, so its answer is not known here")
        }
    }

    /// A write refused while the link is down. Why it is down (the driver's error, with the
    /// database's hosts and ports) is logged when it goes down, not told to every client.
    private func refusal() -> ClusterError {
        ClusterMetrics.refused.increment()
        if severalPrimaries {
            return ClusterError(.unavailable, "writes are refused while more than one PostgreSQL server answers as the primary, until one is fenced; reads go on")
        }
        if unusable {
            return ClusterError(.unavailable, "writes are refused: the database answers but can't be used as it is set up (the node's log says why and what to run); reads go on")
        }
        return ClusterError(.unavailable, "writes are refused while the database is unreachable; reads go on")
    }

    /// Whether the last look for the primary found more than one.
    private var severalPrimaries = false
    /// Whether the primary answered the last connection but can't be used: a schema this
    /// node does not know, or a role short of a privilege. Not "unreachable" to a client.
    private var unusable = false
    /// Counts the drops for several primaries: a connection made while one came (its own
    /// look may have run before the second primary appeared) is not brought up.
    private var drops = 0

    /// Drops the connection for writes, if there is one, when a look found more than one
    /// server answering as primary: the connection may be to the one no standby follows
    /// any more, where a commit waits for the synchronous standby until it times out. The
    /// run loop's next look for the primary refuses both, until one is fenced.
    func dropConnectionForSeveralPrimaries() {
        severalPrimaries = true
        drops += 1
        guard case .up(let connection, _) = link else { return }
        logger.warning("dropping the connection for writes: more than one PostgreSQL server answers as the primary")
        takeDown(connection, reason: "more than one PostgreSQL server answers as the primary")
    }

    /// Sends the queue as appends, one at a time, until it is empty or the link is down.
    private func drain() async {
        var waited = false
        while !queue.isEmpty, case .up(let connection, let backend) = link {
            // A query written to a closed connection is never answered (postgres-nio): the
            // batch is refused instead, as nothing of it was sent.
            if connection.isClosed {
                takeDown(connection, reason: "the connection to the primary closed")
                break
            }
            if !waited, queue.count < settings.groupCommitTarget, underWay >= settings.groupCommitSiblings, settings.groupCommitDelay > .zero {
                // Others are under way: give some of them the time to join this append,
                // then look at the link again.
                waited = true
                try? await Task.sleep(for: settings.groupCommitDelay)
                continue
            }
            waited = false
            // An append whose outcome became unknown after this connection was made (its
            // failure reached this loop once the run loop had already reconnected) is looked
            // up here, before anything is appended on top of it.
            if !unresolved.isEmpty {
                do {
                    try await resolveUnknown(on: connection)
                } catch {
                    takeDown(connection, reason: PrimaryConnector.describe(error))
                    break
                }
                continue
            }
            let batch = queue
            queue = []
            let after = headSeen
            ClusterMetrics.batchSize.record(batch.count)
            let started = ContinuousClock.now
            let outcome = await append(batch, on: connection)
            ClusterMetrics.appendTime.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            switch outcome {
            case .appended(let sequences):
                noteHead(sequences, on: connection)
                for (queued, sequence) in zip(batch, sequences) { queued.continuation.resume(returning: sequence) }
            case .unconfirmed(let sequences, let reason, let connectionFailed):
                noteHead(sequences, on: connection)
                ClusterMetrics.indeterminate.increment(by: batch.count)
                logger.error(
                    "the primary committed an append that no synchronous standby confirmed; a failover before one has it would lose it",
                    metadata: ["reason": "\(reason)", "cluster.records": "\(batch.count)", "cluster.sequence": "\(sequences.first ?? 0)"]
                )
                if connectionFailed { takeDown(connection, reason: reason) }
                for (queued, sequence) in zip(batch, sequences) {
                    queued.continuation.resume(
                        throwing: ClusterError(.indeterminate, "the primary stored the change as revision \(sequence), but no synchronous standby confirmed it; a failover before one does would lose it")
                    )
                }
            case .refused(let reason):
                ClusterMetrics.refused.increment(by: batch.count)
                // The reason is the operator's (it names settings of the database); the
                // clients are told where to find it.
                logger.warning("the primary refused an append; nothing of it was made", metadata: ["reason": "\(reason)", "cluster.records": "\(batch.count)"])
                for queued in batch {
                    queued.continuation.resume(throwing: ClusterError(.unavailable, "the database refused the change, which was not made; the node's log says why"))
                }
            case .lost(let reason):
                unresolved.append(contentsOf: batch.map { Unknown(id: $0.id, after: after, backend: backend) })
                ClusterMetrics.indeterminate.increment(by: batch.count)
                logger.error("an append's outcome is unknown; it will be resolved by request id", metadata: ["reason": "\(reason)", "cluster.records": "\(batch.count)"])
                takeDown(connection, reason: reason)
                for queued in batch {
                    queued.continuation.resume(throwing: ClusterError(.indeterminate, "the database stopped answering while the change was being committed; it may or may not have been made"))
                }
            }
        }
        if !queue.isEmpty {
            let error = refusal()
            let failed = queue
            queue = []
            for queued in failed { queued.continuation.resume(throwing: error) }
        }
        appending = false
    }

    /// Raises ``headSeen`` to an append's last sequence, if the link is still up to the
    /// server that took it: after a failover the new primary's log may not hold it.
    private func noteHead(_ sequences: [Int64], on connection: PostgresConnection) {
        guard case .up(let current, _) = link, current === connection, let last = sequences.max() else { return }
        headSeen = max(headSeen, last)
    }

    /// One append, then its confirmation on the synchronous standby, within
    /// ``ClusterSettings/writeTimeout`` together. The time limit does not cancel the append:
    /// past it the caller gets `lost` and the append goes on (or fails) on its own
    /// (``withDeadline(_:_:on:watch:_:)``).
    private func append(_ batch: [Queued], on connection: PostgresConnection) async -> AppendOutcome {
        let bodies = batch.map(\.body)
        let ids = batch.map(\.id)
        let node = settings.nodeName
        let logger = logger
        let limit = settings.writeTimeout
        let deadline = ContinuousClock.now + limit
        let sequences: [Int64]
        do {
            sequences = try await withDeadline(limit, "the append", on: connection) { try await connection.append(bodies, ids: ids, node: node, logger: logger) }
        } catch let error as PSQLError where error.code == .server && Self.refusedBeforeCommit.contains(error.serverInfo?[.sqlState] ?? "") {
            return .refused(PrimaryConnector.describe(error))
        } catch {
            return .lost(PrimaryConnector.describe(error))
        }
        switch await confirmOnStandby(on: connection, until: deadline) {
        case .confirmed:
            return .appended(sequences)
        case .unconfirmed(let reason):
            return .unconfirmed(sequences, reason: reason, connectionFailed: false)
        case .failed(let reason):
            return .unconfirmed(sequences, reason: reason, connectionFailed: true)
        }
    }

    /// What the primary said of the synchronous standby after an append.
    private enum StandbyConfirmation {
        case confirmed
        /// No synchronous standby holds the append, and none will in time (or at all).
        case unconfirmed(String)
        /// The connection broke or stopped answering before the primary said.
        case failed(String)
    }

    /// Waits until a synchronous standby has flushed everything the primary had flushed
    /// when first asked (so the append just committed on `connection`), or until `deadline`.
    ///
    /// In the usual case the standby's confirmation is what let the commit return, and the
    /// first answer shows it; when a later commit by another node is already flushed on the
    /// primary, the standby reaches it within a moment, and during a shared snapshot's upload
    /// once it has the upload's WAL flushed so far (PostgreSQL shows no session where its own
    /// commit ended, so there is nothing closer to wait for). An emptied
    /// `synchronous_standby_names` is answered at once: no standby is waited for any more.
    private func confirmOnStandby(on connection: PostgresConnection, until deadline: ContinuousClock.Instant) async -> StandbyConfirmation {
        let logger = logger
        var target: Int64?
        var pause = Duration.microseconds(250)
        while true {
            let position: ReplicationPosition
            do {
                // At least a second for each look: one that only just misses the overall
                // deadline says nothing of the connection, and would drop it.
                let limit = max(deadline - .now, .seconds(1))
                position = try await withDeadline(limit, "confirming the append on the synchronous standby", on: connection) { try await connection.replicationPosition(logger: logger) }
            } catch {
                return .failed(PrimaryConnector.describe(error))
            }
            let goal = target ?? position.flushed
            target = goal
            if position.standbyHolds(goal) { return .confirmed }
            if !position.synchronousConfigured {
                return .unconfirmed("synchronous_standby_names was emptied while the append waited for the standby")
            }
            if ContinuousClock.now + pause >= deadline {
                return .unconfirmed("no synchronous standby reported the append flushed within \(settings.writeTimeout)")
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(5))
        }
    }

    /// SQLSTATEs of errors that `deputy_append` raises before anything is committed: the
    /// head lock not taken within `lock_timeout`, no synchronous replication, bad input,
    /// a serialisation failure. Any other error, a server shutting down or a backend
    /// terminated while it waited for the standby among them, may come after the commit
    /// record: its outcome is unknown.
    static let refusedBeforeCommit: Set<String> = ["55P03", "55000", "22023", "22004", "23502", "40001", "40P01", "25006"]

    // MARK: - The connection

    /// Keeps a connection to the primary until the task is cancelled: connects, resolves
    /// appends whose outcome is unknown, and reconnects as soon as the connection is lost.
    public func run() async {
        var backoff = Duration.milliseconds(50)
        var reported = false
        while !Task.isCancelled {
            if case .up = link {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        if Task.isCancelled { continuation.resume() } else { linkWatcher = continuation }
                    }
                } onCancel: {
                    Task { await self.wakeRunLoop() }
                }
                continue
            }
            do {
                let dropsBefore = drops
                let connection = try await connector.connectToPrimary(purpose: .append)
                let backend: SessionBackend
                let head: Int64
                let synchronous: Bool
                do {
                    let logger = logger
                    try await withDeadline(settings.writeTimeout, "checking the schema", on: connection) { try await connection.requireSchema(logger: logger) }
                    let user = settings.user
                    try await withDeadline(settings.writeTimeout, "checking the role's privileges", on: connection) { try await connection.requireReplicationStatistics(user: user, logger: logger) }
                    backend = try await withDeadline(settings.writeTimeout, "naming this session", on: connection) { try await connection.backend(logger: logger) }
                    // Appends of unknown outcome are resolved on the primary that stays, not
                    // on one a survey found beside another while this connection was made.
                    guard drops == dropsBefore else { throw ClusterError.severalPrimaries([]) }
                    try await resolveUnknown(on: connection)
                    head = try await withDeadline(settings.writeTimeout, "reading the head of the log", on: connection) { try await connection.head(logger: logger) }.sequence
                    synchronous = try await withDeadline(settings.writeTimeout, "reading the synchronous replication settings", on: connection) {
                        try await connection.waitsForSynchronousStandby(logger: logger)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                guard drops == dropsBefore else {
                    try? await connection.close()
                    throw ClusterError.severalPrimaries([])
                }
                headSeen = head
                severalPrimaries = false
                unusable = false
                bringUp(connection, backend)
                Task { await self.lookForNamesake(on: connection, backend: backend) }
                if !synchronous {
                    // Kept up: the session still answers, and the appends say when the
                    // operator has named a standby. Said now, because each refusal's own
                    // text reaches only the client that wrote.
                    logger.error(
                        "the primary names no synchronous standby, so every write is refused until it does: once a standby streams from it, on the primary ALTER SYSTEM SET synchronous_standby_names = 'STANDBY'; SELECT pg_reload_conf(); (docs/cluster.md, A manual failover)"
                    )
                } else if reported {
                    // The end of what the warning below began, at a level the default log shows.
                    logger.notice("connected to the primary again; writes are accepted")
                }
                backoff = .milliseconds(50)
                reported = false
            } catch {
                if Task.isCancelled { break }
                let reason = PrimaryConnector.describe(error)
                link = .down(reason: reason)
                severalPrimaries = (error as? ClusterError)?.isSeveralPrimaries == true
                unusable = (error as? ClusterError)?.kind == .incompatible
                if !reported {
                    logger.warning("no connection for writes; they are refused until one is made", metadata: ["error": "\(reason)"])
                    reported = true
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
            }
        }
        if case .up(let connection, _) = link {
            takeDown(connection, reason: "the node is stopping")
        }
    }

    /// Another node writing under this node's name: each needs a name of its own, or
    /// `deputyd cluster status` shows one line for the two, and one that has stopped stays
    /// hidden behind the other. A session of this node's own that ended without closing (its
    /// machine lost) looks the same until PostgreSQL drops it, so what is found is looked at
    /// again 2 s later, and only said, never refused.
    private func lookForNamesake(on connection: PostgresConnection, backend: SessionBackend) async {
        let name = PrimaryConnector.applicationName(node: settings.nodeName, purpose: .append)
        for attempt in 0..<2 {
            if attempt > 0 { try? await Task.sleep(for: .seconds(2)) }
            guard !Task.isCancelled, let others = try? await connection.sessions(named: name, except: backend.pid, logger: logger), !others.isEmpty
            else { return }
            if attempt == 1 {
                logger.error(
                    "another deputyd writes to the cluster under this node's name: give each node a cluster-node of its own (or, if this node's machine was lost, PostgreSQL drops its old session once it notices)",
                    metadata: ["cluster.node": "\(settings.nodeName)", "cluster.namesake": "\(others.joined(separator: ", "))"]
                )
            }
        }
    }

    private func bringUp(_ connection: PostgresConnection, _ backend: SessionBackend) {
        link = .up(connection, backend)
        ClusterMetrics.writerConnected.record(1)
        logger.info("connected to the primary for writes")
        connection.closeFuture.whenComplete { _ in
            Task { await self.takeDown(connection, reason: "the connection to the primary closed") }
        }
    }

    private func takeDown(_ connection: PostgresConnection, reason: String) {
        guard case .up(let current, _) = link, current === connection else { return }
        link = .down(reason: reason)
        ClusterMetrics.writerConnected.record(0)
        wakeRunLoop()
        // Closing the socket does not cancel an append the server is committing; it
        // finishes or fails on its own, and its request ids say which.
        Task { try? await connection.close() }
    }

    private func wakeRunLoop() {
        linkWatcher?.resume()
        linkWatcher = nil
    }

    /// Looks up every request id whose append's outcome was unknown. Runs before writes are
    /// accepted again, and before the next append on a connection made while such an
    /// append was still under way, so nothing is appended on top of an unknown outcome.
    ///
    /// An id absent from the log is taken as not made only once nothing can still make it:
    /// the sessions those appends were sent on are ended first. A connection given up during
    /// a network partition is not a session ended: the server never saw it go, and the
    /// append's bytes, retransmitted once the network heals, would still reach that session
    /// and commit after the look-up. And it is taken as not made only while the log still
    /// holds every row after the revision the append was sent at; otherwise retention may
    /// have removed it, and the log can no longer tell.
    private func resolveUnknown(on connection: PostgresConnection) async throws {
        guard !unresolved.isEmpty else { return }
        let unknown = unresolved
        let logger = logger
        let limit = settings.writeTimeout
        for backend in Set(unknown.map(\.backend)) {
            let ended = try await withDeadline(limit + .seconds(1), "ending the session of an append whose outcome is unknown", on: connection) {
                try await connection.endSession(backend, timeout: limit, logger: logger)
            }
            guard ended else {
                throw ClusterError(.unavailable, "the session (process \(backend.pid)) of an append whose outcome is unknown did not end within \(limit)")
            }
        }
        let ids = unknown.map(\.id)
        // deputy_resolve waits for the head lock up to lock_timeout, then fails cleanly.
        let found = try await withDeadline(limit, "resolving request ids", on: connection) { try await connection.resolve(ids, logger: logger) }
        // Read after the look-up: retention since then only makes it later, and an id
        // counted as untold that was not made is a smaller error than the reverse.
        var oldestKept: Int64?
        if found.contains(nil) {
            oldestKept = try await withDeadline(limit, "reading where the log begins", on: connection) {
                // With every row removed, the log begins after its head.
                if let oldest = try await connection.oldestRow(logger: logger) { return oldest }
                return try await connection.head(logger: logger).sequence + 1
            }
        }
        for (entry, sequence) in zip(unknown, found) {
            if let sequence {
                resolutions.stored += 1
                ClusterMetrics.resolvedStored.increment()
                logger.notice("a change whose outcome was unknown was stored", metadata: ["cluster.request": "\(entry.id)", "cluster.sequence": "\(sequence)"])
            } else if let oldestKept, oldestKept > entry.after + 1 {
                resolutions.untold += 1
                ClusterMetrics.resolvedUntold.increment()
                logger.warning(
                    "the outcome of a change can no longer be told from the log: the rows after its revision were removed once newer shared snapshots were stored; look for the change in the directory",
                    metadata: ["cluster.request": "\(entry.id)", "cluster.after": "\(entry.after)", "cluster.oldest": "\(oldestKept)"]
                )
            } else {
                resolutions.notStored += 1
                ClusterMetrics.resolvedNotStored.increment()
                logger.notice("a change whose outcome was unknown was not stored", metadata: ["cluster.request": "\(entry.id)"])
            }
        }
        // By id, not by count: the run loop and the append loop may each have looked up
        // some of them, on two connections one after the other.
        let resolved = Set(ids)
        unresolved.removeAll { resolved.contains($0.id) }
    }
}
