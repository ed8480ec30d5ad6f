import DeputyCore
import DeputyStore
import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// Follows the log on one node: every node, the writing one included, applies each record
/// in sequence order through the unchanged ``DeputyCore/Directory/apply(_:context:)`` and
/// publishes the result to ``live``. So all nodes reach the same directory, and a node that
/// wrote a command answers with the result the core produced here.
///
/// The order of work on each connection follows PostgreSQL's rule for `LISTEN`: listen
/// first, then read the table, then rely on notifications, which only wake the applier;
/// it always reads by sequence from the table, and also looks every ``ClusterSettings/pollInterval``
/// in case a notification was lost. A notification naming a head this node has already
/// applied (an earlier read took its records) reads nothing (``LogWakeups``). Each record's
/// chain digest is checked. After every
/// reconnect the applier checks that the log still holds its digest at its position; when
/// it does not (a failover took back a record this node had applied: a "phantom"), or when
/// the records it needs were removed by retention, it reloads from the newest shared
/// snapshot and catches up from there.
public actor ClusterApplier {
    /// The directory readers query; published after each batch of records.
    public nonisolated let live: LiveDirectory

    private(set) var position: ClusterPosition
    private let settings: ClusterSettings
    private let connector: PrimaryConnector
    private let localState: LocalClusterState?
    private let logger: Logger
    private let coder = LoggedCommandCoder()
    /// Where snapshots are encoded and the local state file written: encoding a large
    /// directory takes seconds, and on the cooperative pool (two threads on two cores) the
    /// local save and a shared upload together stalled every task of the node, its writes'
    /// answers among them, for as long.
    private let snapshotQueue = StorageIOQueue(label: "deputy.cluster.snapshots")

    /// Why the applier stopped applying, when it has (a record with newer rules).
    public private(set) var haltReason: String?
    /// While reconnected after a halt, the log is read again past where it stopped: the
    /// halt holds (writes refused) until the record there applies or is gone.
    private var rereadingAfterHalt = false
    /// Whether the applier is connected and has caught up since it connected.
    public private(set) var isFollowing = false
    /// The head of the log when last seen.
    public private(set) var lastHead: Int64 = 0
    /// How many times this node reloaded from a shared snapshot.
    public private(set) var rebootstrapCount = 0

    private var outcomes: [UUID: Outcome] = [:]
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiter = 0
    /// Ends the waits that pass their deadline; runs while anything waits. One task for all
    /// waits, rather than a timer task for each write.
    private var sweeper: Task<Void, Never>?
    /// When to write the local state file. Never written by this applier yet, it is due at
    /// once after enough records, so that a node that has just replayed many records saves
    /// them, and a second restart does not replay them again.
    private var localPacing: SnapshotPacing
    /// The local state file being written off the applier, if one is.
    private var localSave: Task<Void, Never>?
    /// When to upload a shared snapshot.
    private var sharedPacing: SnapshotPacing
    private var sharedSnapshotRunning = false
    /// Counts connections: work begun on an earlier one that resumes late changes nothing.
    private var generation = 0
    /// When the primary last answered a catch-up, for the ticker that drops a connection
    /// that stops answering; held while a reload from the shared snapshot runs.
    private nonisolated let liveness = ProgressClock()

    /// How long reading the newest shared snapshot may take: a large directory's snapshot is
    /// tens of megabytes, far more than a catch-up, so the liveness limit does not apply.
    static let snapshotTransferLimit = Duration.seconds(120)

    /// What became of a record this node's writer waits for.
    private enum Outcome {
        /// Not applied yet; the record as the writer encoded it, when it is known.
        case waiting(PendingRecord?)
        case applied(sequence: Int64, result: Result<CommandResult, DirectoryError>)
    }

    /// A record this node's writer appended, and its bytes.
    ///
    /// The writer's coder checked that the bytes decode to this very record, so when the
    /// log's row holds the same bytes the applier takes the record as it is rather than
    /// decoding it again: the same command every other node decodes from those bytes, for
    /// one decoding fewer a write on the node that wrote it.
    struct PendingRecord: Sendable {
        let record: LoggedCommand
        let body: [UInt8]
    }

    init(position: ClusterPosition, settings: ClusterSettings, connector: PrimaryConnector, localState: LocalClusterState?, logger: Logger) {
        self.position = position
        self.settings = settings
        self.connector = connector
        self.localState = localState
        self.logger = logger
        localPacing = SnapshotPacing(every: settings.localSnapshotEvery, interval: settings.localSnapshotInterval, costFactor: settings.snapshotCostFactor)
        sharedPacing = SnapshotPacing(every: settings.sharedSnapshotEvery, interval: settings.sharedSnapshotInterval, costFactor: settings.snapshotCostFactor)
        live = LiveDirectory(position.directory)
        ClusterMetrics.reset()
        ClusterMetrics.applied.record(position.sequence)
        ClusterMetrics.stale.record(1)
        ClusterMetrics.applierConnected.record(0)
    }

    /// The last applied sequence (the directory's revision).
    public var appliedSequence: Int64 { position.sequence }

    /// The chain digest at ``appliedSequence``.
    public var appliedDigest: [UInt8] { position.digest }

    /// The directory's snapshot bytes and the sequence they stand at: equal on every node at
    /// the same sequence.
    public func snapshotBytes() throws -> (sequence: Int64, bytes: [UInt8]) {
        (position.sequence, try PortableSnapshot.encode(position.directory))
    }

    // MARK: - Following the log

    /// Connects, catches up and follows the log until the task is cancelled, reconnecting
    /// (to whichever server is the primary then) whenever the connection fails.
    public func run() async {
        var backoff = Duration.milliseconds(50)
        while !Task.isCancelled {
            do {
                let connection = try await connector.connectToPrimary(purpose: .apply)
                do {
                    try await follow(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                // A connection that was followed failed anew: start again from the shortest
                // wait, as the first failure did (a failover is no slower for earlier ones).
                if isFollowing { backoff = .milliseconds(50) }
                if let cluster = error as? ClusterError, cluster.kind == .incompatible {
                    // Nothing a reconnection mends soon (a cluster schema this build does not
                    // know, a shared snapshot it can't load, or none): said every time, and
                    // tried again seldom, since a try may read the whole snapshot from the
                    // primary.
                    logger.error("not following the log; serving the directory as it is", metadata: ["error": "\(cluster.description)", "cluster.retry_seconds": "\(settings.incompatibleRetry.seconds)"])
                    setFollowing(false)
                    try? await Task.sleep(for: settings.incompatibleRetry)
                    backoff = .milliseconds(50)
                    continue
                }
                if isFollowing || backoff == .milliseconds(50) {
                    logger.warning("not following the log; serving the directory as it is and reconnecting", metadata: ["error": "\(PrimaryConnector.describe(error))"])
                }
                setFollowing(false)
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(1))
                continue
            }
        }
        setFollowing(false)
        await saveLocalState()
    }

    /// One connection's life: LISTEN, check the position, catch up, then catch up again on
    /// every notification and every poll tick until the connection fails.
    ///
    /// A connection that stops answering is closed here rather than waited on: every query
    /// has a deadline, and when no catch-up has finished for ``livenessLimit``, the ticker
    /// closes the connection, which fails the query in flight and ends the notifications, so
    /// the loop reconnects. A reload from the shared snapshot is timed on its own: on a large
    /// directory, reading and decoding it takes longer than the limit, and timed by it, the
    /// node would start it again on every reconnect and never finish.
    private func follow(_ connection: PostgresConnection) async throws {
        generation += 1
        let current = generation
        let poll = settings.pollInterval
        let limit = livenessLimit
        let logger = logger
        try await withDeadline(limit, "checking the schema", on: connection) { try await connection.requireSchema(logger: logger) }
        // postgres-nio runs the closure below once the server has confirmed LISTEN: a
        // primary that stops answering before then would hold this task for good.
        let listening = Mutex(false)
        let watchdog = Task {
            try await Task.sleep(for: limit)
            if !listening.withLock({ $0 }) { try? await connection.close() }
        }
        defer { watchdog.cancel() }
        try await connection.listen(on: ClusterSchema.channel) { notifications in
            listening.withLock { $0 = true }
            // LISTEN is confirmed before this closure runs: nothing committed from here on
            // can be missed by the reads below.
            try await self.reconcile(connection, current)
            try await self.catchUp(connection, current)
            self.setFollowing(true)
            let progress = self.liveness
            progress.mark()
            let wakeups = LogWakeups()
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications {
                        wakeups.notified(payload: notification.payload)
                        wake.yield()
                    }
                    throw ClusterError(.unavailable, "the notification stream ended")
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: poll)
                        if progress.sinceLast > limit {
                            throw ClusterError(.unavailable, "the primary has not answered a catch-up for \(limit)")
                        }
                        wakeups.pollTick()
                        wake.yield()
                    }
                }
                group.addTask {
                    var beat = ContinuousClock.now
                    for await _ in wakes {
                        let woken = wakeups.take()
                        let caughtUp = try await self.catchUp(connection, current, woken: woken)
                        if ContinuousClock.now - beat >= poll {
                            beat = ContinuousClock.now
                            try await withDeadline(limit, "reporting progress", on: connection) { try await self.heartbeat(connection, current) }
                        }
                        if caughtUp { progress.mark() }
                    }
                }
                do {
                    _ = try await group.next()
                } catch {
                    // Closing the connection ends whatever still waits on it; the group
                    // then finishes.
                    group.cancelAll()
                    wake.finish()
                    try? await connection.close()
                    throw error
                }
            }
        }
    }

    /// Throws when `current` is no longer the connection being followed.
    private func requireCurrent(_ current: Int) throws {
        guard current == generation else { throw ClusterError(.unavailable, "an earlier connection's work resumed late; dropped") }
    }

    /// How long a catch-up may go unanswered before the connection counts as dead.
    private var livenessLimit: Duration { max(settings.pollInterval * 10, settings.connectTimeout * 2) }

    private func setFollowing(_ following: Bool) {
        isFollowing = following
        ClusterMetrics.applierConnected.record(following ? 1 : 0)
        ClusterMetrics.stale.record(following ? 0 : 1)
    }

    /// Checks, after connecting, that the log continues this node's state; reloads from the
    /// shared snapshot when it does not, or when the records it needs are gone.
    func reconcile(_ connection: PostgresConnection, _ current: Int) async throws {
        let logger = logger
        let head = try await withDeadline(livenessLimit, "reading the head of the log", on: connection) { try await connection.head(logger: logger) }
        try requireCurrent(current)
        lastHead = head.sequence
        ClusterMetrics.head.record(head.sequence)
        if haltReason != nil {
            // A failover may have taken back the record that stopped this node (a phantom a
            // newer deputyd wrote). The node stays stopped, refusing writes, until it knows:
            // the log now ends before that record, or the record there now applies.
            if head.sequence <= position.sequence {
                liftHalt(because: "the record it stopped at is no longer in the log")
            } else {
                rereadingAfterHalt = true
            }
        }
        if head.sequence < position.sequence {
            try await rebootstrap(connection, current, because: "the log ends at \(head.sequence), before this node's \(position.sequence): records it applied were taken back by a failover")
            return
        }
        let sequence = position.sequence
        let logged = try await withDeadline(livenessLimit, "checking this node's position", on: connection) { try await connection.digest(at: sequence, logger: logger) }
        try requireCurrent(current)
        guard let logged else {
            try await rebootstrap(connection, current, because: "the log no longer holds sequence \(position.sequence) (removed after a newer shared snapshot)")
            return
        }
        if logged != position.digest {
            try await rebootstrap(connection, current, because: "the log's digest at \(position.sequence) differs from this node's: a record it applied was taken back by a failover")
        }
    }

    /// Loads the newest shared snapshot and makes it this node's position.
    private func rebootstrap(_ connection: PostgresConnection, _ current: Int, because reason: String) async throws {
        liveness.hold()
        defer { liveness.release() }
        let logger = logger
        let newest = try await withDeadline(Self.snapshotTransferLimit, "reading the newest shared snapshot", on: connection) { try await connection.newestSnapshot(logger: logger) }
        try requireCurrent(current)
        guard let stored = newest else {
            throw ClusterError(.incompatible, "\(reason), and the database holds no shared snapshot to start from")
        }
        let loaded: ClusterPosition
        do {
            loaded = try ClusterPosition(snapshot: stored, source: "the shared snapshot at \(stored.sequence)")
        } catch let error as ClusterError {
            throw ClusterError(.incompatible, "\(reason), and \(error.description)")
        } catch {
            // A snapshot of a newer format, or damaged: this build can't start from it.
            throw ClusterError(.incompatible, "\(reason), and this node can't load the shared snapshot at \(stored.sequence): \(error)")
        }
        let logged = try await withDeadline(livenessLimit, "checking the shared snapshot against the log", on: connection) { try await connection.digest(at: loaded.sequence, logger: logger) }
        try requireCurrent(current)
        guard logged == loaded.digest else {
            throw ClusterError(.incompatible, "\(reason), and the shared snapshot at \(stored.sequence) does not match the log")
        }
        logger.error("reloading from the shared snapshot", metadata: ["reason": "\(reason)", "cluster.snapshot": "\(loaded.sequence)", "cluster.applied": "\(position.sequence)"])
        position = loaded
        rebootstrapCount += 1
        ClusterMetrics.rebootstraps.increment()
        // Answers recorded from records that may have been taken back are recomputed when
        // the records are applied again.
        for (id, outcome) in outcomes {
            if case .applied = outcome { outcomes[id] = .waiting(nil) }
        }
        live.publish(position.directory)
        ClusterMetrics.applied.record(position.sequence)
        localPacing.makeDue()
        wakeWaiters()
    }

    /// Catches up when `woken` says the log may hold records after this node's position;
    /// returns whether it read the log.
    private func catchUp(_ connection: PostgresConnection, _ current: Int, woken: Wake) async throws -> Bool {
        guard woken.needsCatchUp(after: position.sequence) else {
            ClusterMetrics.skippedWakeups.increment()
            return false
        }
        try await catchUp(connection, current)
        return true
    }

    /// Applies every record after this node's position, in batches.
    func catchUp(_ connection: PostgresConnection, _ current: Int) async throws {
        let start = position.sequence
        // A reload from a shared snapshot may move the position by more, or back: counted as none.
        defer { ClusterMetrics.catchUpSize.record(max(0, position.sequence - start)) }
        let logger = logger
        defer { rereadingAfterHalt = false }
        while haltReason == nil || rereadingAfterHalt {
            let after = position.sequence
            let rows = try await withDeadline(livenessLimit, "reading the log", on: connection) { try await connection.rows(after: after, limit: 1000, logger: logger) }
            try requireCurrent(current)
            if rows.isEmpty { break }
            if rows[0].sequence != position.sequence + 1 {
                try await rebootstrap(connection, current, because: "the log continues at \(rows[0].sequence), after this node's \(position.sequence): the records between were removed after a newer shared snapshot")
                continue
            }
            try await apply(rows, connection: connection, current)
            if rows.count < 1000 { break }
        }
        ClusterMetrics.head.record(max(lastHead, position.sequence))
        lastHead = max(lastHead, position.sequence)
        maintainSnapshots()
    }

    /// Applies `rows` (contiguous from this node's position) and publishes the result once.
    private func apply(_ rows: [LogRow], connection: PostgresConnection, _ current: Int) async throws {
        var next = position
        var applied = 0
        for row in rows {
            let digest = HashChain.next(next.digest, row.body)
            guard row.sequence == next.sequence + 1, digest == row.digest else {
                publish(next, records: applied, last: rows.first { $0.sequence == next.sequence })
                try await rebootstrap(connection, current, because: "the record at \(row.sequence) does not follow this node's chain: the log was rewritten under it (a failover)")
                return
            }
            let record: LoggedCommand
            if case .waiting(let pending?)? = outcomes[row.requestID], pending.body == row.body {
                record = pending.record
            } else {
                do {
                    record = try coder.decode(row.body)
                } catch {
                    halt(next, records: applied, rows: rows, because: "the record at \(row.sequence) does not parse: \(error)")
                    return
                }
            }
            guard record.rules <= LoggedCommand.currentRules else {
                halt(next, records: applied, rows: rows, because: "the record at \(row.sequence) was written under rules version \(record.rules); this deputyd applies version \(LoggedCommand.currentRules): upgrade it")
                return
            }
            let result = next.directory.apply(record.command, context: record.context)
            next.sequence = row.sequence
            next.digest = digest
            guard next.directory.revision == UInt64(row.sequence) else {
                // Nothing of this batch is published: its directory already holds the record
                // and no longer matches any position, and a snapshot of it (local, or shared
                // and then loaded by every new node) would be refused wherever it is read.
                halt(next, records: 0, rows: rows, because: "after the record at \(row.sequence) the directory's revision is \(next.directory.revision)")
                return
            }
            if outcomes[row.requestID] != nil {
                outcomes[row.requestID] = .applied(sequence: row.sequence, result: result)
            }
            applied += 1
            // The record it stopped at was replaced by one it applies.
            if rereadingAfterHalt { liftHalt(because: "the record at \(row.sequence) now applies") }
        }
        publish(next, records: applied, last: rows.last)
    }

    private func publish(_ next: ClusterPosition, records: Int, last: LogRow?) {
        guard records > 0 else { return }
        position = next
        live.publish(next.directory)
        ClusterMetrics.applied.record(next.sequence)
        if let last {
            let lag = max(0, Date().timeIntervalSince(last.written))
            ClusterMetrics.lag.record(lag)
            ClusterMetrics.lagTimer.recordNanoseconds(Int64(lag * 1e9))
        }
        localPacing.applied(records)
        sharedPacing.applied(records)
        wakeWaiters()
    }

    /// Goes on applying the log after a halt whose record a failover took back.
    private func liftHalt(because reason: String) {
        guard let halted = haltReason else { return }
        haltReason = nil
        rereadingAfterHalt = false
        ClusterMetrics.halted.record(0)
        logger.notice("applying the log again: \(reason)", metadata: ["halted": "\(halted)"])
    }

    private func halt(_ next: ClusterPosition, records: Int, rows: [LogRow], because reason: String) {
        publish(next, records: records, last: rows.first { $0.sequence == next.sequence })
        rereadingAfterHalt = false
        haltReason = reason
        ClusterMetrics.halted.record(1)
        logger.critical("stopped applying the log; reads go on from the directory as it is", metadata: ["reason": "\(reason)"])
    }

    /// Reports progress and refreshes the head for the lag metrics.
    private func heartbeat(_ connection: PostgresConnection, _ current: Int) async throws {
        let head = try await connection.head(logger: logger)
        try requireCurrent(current)
        lastHead = head.sequence
        ClusterMetrics.head.record(head.sequence)
        try await connection.report(node: settings.nodeName, applied: position.sequence, digest: position.digest, logger: logger)
    }

    // MARK: - Snapshots

    private func maintainSnapshots() {
        let now = ContinuousClock.now
        if localSave == nil, localPacing.isDue(at: now) {
            // Off the applier: encoding a large directory takes a while, and the directory
            // value does not change under it.
            guard let localState else { return }
            localPacing.started(at: now)
            let position = position
            localSave = Task.detached { [logger, snapshotQueue] in
                let cost = await snapshotQueue.run { Self.save(position, to: localState, logger: logger) }
                await self.localSaveFinished(cost: cost)
            }
        }
        if !sharedSnapshotRunning, sharedPacing.isDue(at: now) {
            sharedPacing.started(at: now)
            sharedSnapshotRunning = true
            let position = position
            let limit = livenessLimit
            Task.detached { [connector, logger, settings, snapshotQueue] in
                let cost = await Self.uploadSharedSnapshot(
                    position, connector: connector, node: settings.nodeName,
                    every: settings.sharedSnapshotEvery, interval: settings.sharedSnapshotInterval, queryLimit: limit, encodingOn: snapshotQueue, logger: logger
                )
                await self.sharedSnapshotFinished(cost: cost)
            }
        }
    }

    private func sharedSnapshotFinished(cost: Duration) {
        sharedSnapshotRunning = false
        sharedPacing.finished(cost: cost)
    }

    /// Writes the local state file now; the sequence it holds.
    @discardableResult
    public func saveLocalStateNow() async -> Int64 {
        await saveLocalState()
    }

    /// Writes the local state file now, after any write in progress (on shutdown, and when
    /// asked); the sequence it holds. Records applied while it is written are not in it.
    @discardableResult
    func saveLocalState() async -> Int64 {
        await localSave?.value
        let position = position
        guard let localState else { return position.sequence }
        localPacing.started(at: .now)
        let cost = await snapshotQueue.run { [logger] in Self.save(position, to: localState, logger: logger) }
        localPacing.finished(cost: cost)
        return position.sequence
    }

    private func localSaveFinished(cost: Duration) {
        localSave = nil
        localPacing.finished(cost: cost)
    }

    /// Encodes and writes the local state file; how long that took (the cost that paces
    /// the next, without any wait for the queue).
    private static func save(_ position: ClusterPosition, to localState: LocalClusterState, logger: Logger) -> Duration {
        let started = ContinuousClock.now
        do {
            try localState.save(position, snapshot: try PortableSnapshot.encode(position.directory, parallel: false))
        } catch {
            logger.error("writing the local cluster state failed; a restart will start from the shared snapshot", metadata: ["error": "\(error)"])
        }
        return ContinuousClock.now - started
    }

    /// Uploads `position` as a shared snapshot, unless another node holds the snapshot lock
    /// (one upload at a time), or the newest shared snapshot, whichever node stored it, is
    /// fewer than `every` records behind `position` or younger than `interval`; how long it
    /// took, less any wait for `queue`.
    ///
    /// Each node paces its own attempts, and all of them reach the same records at about the
    /// same time: without the second rule every node would upload in turn, each a full
    /// encoding and a burst of WAL for the synchronous standby, for one snapshot's worth of use.
    static func uploadSharedSnapshot(
        _ position: ClusterPosition, connector: PrimaryConnector, node: String, every: Int, interval: Duration,
        queryLimit: Duration, encodingOn queue: StorageIOQueue, logger: Logger
    ) async -> Duration {
        let started = ContinuousClock.now
        var queued = Duration.zero
        do {
            let connection = try await connector.connectToPrimary(purpose: .snapshot)
            defer { Task { try? await connection.close() } }
            // Every query has a deadline: one left waiting on a connection that stopped
            // answering would keep this node from uploading again.
            let locked = try await withDeadline(queryLimit, "taking the snapshot lock", on: connection) {
                var locked = false
                for try await value in try await connection.query("SELECT pg_try_advisory_lock(\(Self.snapshotLock))", logger: logger).decode(Bool.self) {
                    locked = value
                }
                return locked
            }
            guard locked else { return ContinuousClock.now - started }
            if let newest = try await withDeadline(queryLimit, "reading the newest snapshot's age", on: connection, { try await connection.newestSnapshotAge(logger: logger) }),
                newest.sequence >= position.sequence || position.sequence - newest.sequence < Int64(every) || newest.age < interval
            {
                return ContinuousClock.now - started
            }
            let handed = ContinuousClock.now
            let (bytes, encoding) = try await queue.run { () throws(StoreError) -> ([UInt8], Duration) in
                let encodingStarted = ContinuousClock.now
                let bytes = try PortableSnapshot.encode(position.directory, parallel: false)
                return (bytes, ContinuousClock.now - encodingStarted)
            }
            queued = ContinuousClock.now - handed - encoding
            // A custom plan would carry the snapshot as a constant, which the planner copies
            // several times: most of the server's work for an upload of a large directory.
            try await withDeadline(queryLimit, "setting the plan cache mode", on: connection) { try await connection.execute("SET plan_cache_mode = force_generic_plan", logger: logger) }
            let removed = try await withDeadline(snapshotTransferLimit, "storing the shared snapshot", on: connection) {
                try await connection.putSnapshot(at: position.sequence, digest: position.digest, body: bytes, node: node, logger: logger)
            }
            ClusterMetrics.snapshotsUploaded.increment()
            logger.info("shared snapshot uploaded", metadata: ["cluster.sequence": "\(position.sequence)", "cluster.bytes": "\(bytes.count)", "cluster.removed": "\(removed)"])
        } catch {
            logger.warning("uploading a shared snapshot failed; another try after more records", metadata: ["error": "\(PrimaryConnector.describe(error))"])
        }
        return ContinuousClock.now - started - queued
    }

    /// The advisory lock key that makes snapshot uploads one at a time.
    static let snapshotLock: Int64 = 0x6465_7075_7479

    // MARK: - Waiting, for the writer

    /// A wait for a sequence to be applied.
    private struct Waiter {
        let sequence: Int64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }

    /// What became of a record the writer appended.
    enum WriteOutcome {
        /// This node applied it; the core's answer.
        case applied(Result<CommandResult, DirectoryError>)
        /// Not applied here within the time allowed; it will be.
        case notYetApplied
        /// This node got past it without applying it (it loaded a snapshot that holds it).
        case unknown
    }

    /// Marks `id` as a request whose result the writer will ask for, with the record it
    /// appends as `pending`; instead, when this applier has stopped, the reason (writes are
    /// refused then).
    func expect(_ id: UUID, pending: PendingRecord? = nil) -> String? {
        if let haltReason { return haltReason }
        outcomes[id] = .waiting(pending)
        return nil
    }

    /// Forgets `id` (its append failed).
    func forget(_ id: UUID) {
        outcomes[id] = nil
    }

    /// Waits until the record of `id`, at `sequence`, is applied here (at most `timeout`)
    /// and takes what the core answered.
    func outcome(of id: UUID, at sequence: Int64, timeout: Duration) async -> WriteOutcome {
        defer { outcomes[id] = nil }
        guard await waitUntilApplied(sequence, timeout: timeout) else { return .notYetApplied }
        if case .applied(_, let result) = outcomes[id] { return .applied(result) }
        return .unknown
    }

    /// Waits until the applied sequence is at least `sequence`, at most `timeout`; whether
    /// it got there.
    public func waitUntilApplied(_ sequence: Int64, timeout: Duration) async -> Bool {
        if position.sequence >= sequence { return true }
        let token = nextWaiter
        nextWaiter += 1
        let deadline = ContinuousClock.now + timeout
        return await withCheckedContinuation { continuation in
            waiters[token] = Waiter(sequence: sequence, deadline: deadline, continuation: continuation)
            if sweeper == nil { sweeper = Task { await self.sweep() } }
        }
    }

    /// Every 50 ms at most, or at the next deadline, ends the waits past their deadline,
    /// until none is left.
    private func sweep() async {
        while !waiters.isEmpty {
            let now = ContinuousClock.now
            for (token, waiter) in waiters where waiter.deadline <= now {
                waiters.removeValue(forKey: token)
                waiter.continuation.resume(returning: false)
            }
            guard let next = waiters.values.lazy.map(\.deadline).min() else { break }
            try? await Task.sleep(until: min(next, now + .milliseconds(50)), clock: .continuous)
        }
        sweeper = nil
    }

    private func wakeWaiters() {
        for (token, waiter) in waiters where waiter.sequence <= position.sequence {
            waiters.removeValue(forKey: token)
            waiter.continuation.resume(returning: true)
        }
    }
}

/// When the applier last finished a catch-up, readable from its other tasks; while held
/// (a reload from the shared snapshot, timed on its own), no time passes for it.
private final class ProgressClock: Sendable {
    private let state = Mutex((last: ContinuousClock.now, holds: 0))

    func mark() { state.withLock { $0.last = .now } }

    func hold() { state.withLock { $0.holds += 1 } }

    /// Ends a hold; time counts again from now.
    func release() {
        state.withLock {
            $0.holds -= 1
            $0.last = .now
        }
    }

    var sinceLast: Duration {
        state.withLock { $0.holds > 0 ? .zero : ContinuousClock.now - $0.last }
    }
}
