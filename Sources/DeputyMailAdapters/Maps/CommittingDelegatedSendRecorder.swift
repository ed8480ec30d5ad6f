import DeputyServer
import DeputyCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Writes each delegated send to the directory's audit log, as the command
/// ``DeputyCore/Command/recordDelegatedSend(login:sender:delegation:details:)`` applied by
/// the daemon itself through the single writer, so the record is as durable as any change.
///
/// The audit record reads `delegated-send` on the sender's address, its actor the login,
/// with the delegation's identity, its permissions and granter, the permission used, the
/// queue id and the Message-ID. The wait is the journal's group commit, shared with every
/// other change committed at the same moment.
///
/// While the writer can't make changes durable for want of what it writes to (cluster mode
/// with PostgreSQL unreachable: ``DeputyServer/CommitUnavailable``), mail keeps flowing and
/// the records wait in a bounded queue in memory, in order, each with the time of its send.
/// As a service, the recorder writes them once the writer accepts changes again. Past the
/// queue's capacity a record is only logged. A record whose commit was in flight when the
/// database went away is not queued again: it may have been stored, and an audit log must
/// not show one send twice.
public final class CommittingDelegatedSendRecorder: DelegatedSendRecorder, Service, CustomStringConvertible {
    /// The records a queue holds by default: an hour of a busy site's delegated sends.
    public static let defaultCapacity = 10_000

    private let committer: any DirectoryCommitter
    private let logger: Logger
    private let spool: Spool
    private let retryEvery: Duration

    /// Creates a recorder that commits through `committer`, queues at most `capacity`
    /// records while it can't, and tries the queue again every `retryEvery` while it runs.
    public init(committer: any DirectoryCommitter, logger: Logger, capacity: Int = defaultCapacity, retryEvery: Duration = .seconds(1)) {
        self.committer = committer
        self.logger = logger
        self.spool = Spool(capacity: capacity)
        self.retryEvery = retryEvery
    }

    public var description: String { "DelegatedSendRecorder" }

    /// The records waiting for the writer.
    public var queued: Int {
        get async { await spool.count }
    }

    /// The records dropped because the queue was full (each was logged).
    public var dropped: Int {
        get async { await spool.dropped }
    }

    public func record(_ event: DelegatedSendEvent, at time: Date) async {
        let command = Command.recordDelegatedSend(login: event.login, sender: event.sender, delegation: event.grant.delegation, details: event.details)
        let pending = Pending(command: command, time: time)
        // Behind records already waiting: the audit log keeps the order of the sends.
        if await spool.count > 0 {
            await queue(pending)
            return
        }
        if await commit(pending) == .unavailable { await queue(pending) }
    }

    /// Writes the queued records in order, until the queue is empty or the writer refuses
    /// again; whether the queue is empty.
    @discardableResult
    public func flush() async -> Bool {
        while let next = await spool.first {
            if await commit(next) == .unavailable { return false }
            await spool.removeFirst()
        }
        return true
    }

    /// Tries the queue every `retryEvery` until the daemon stops; what is still queued then
    /// is logged, one line a record with everything the record would have held, and
    /// counted as dropped.
    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.retryEvery) }
            } catch {
                break
            }
            if await spool.count > 0, await flush() {
                logger.notice("the delegated sends queued while changes were refused are in the audit log")
            }
        }
        if await spool.count > 0, await !flush() {
            let left = await spool.drain()
            logger.error("delegated sends not recorded in the audit log: the daemon stopped while changes were refused; each is logged below", metadata: ["audit.queued": "\(left.count)"])
            for pending in left {
                logger.error("delegated send not recorded in the audit log", metadata: Self.metadata(pending))
            }
        }
    }

    private struct Pending: Sendable {
        let command: Command
        let time: Date
    }

    private enum Outcome { case done, unavailable }

    private func commit(_ pending: Pending) async -> Outcome {
        let metadata = Self.metadata(pending)
        do {
            if case .failure(let error) = try await committer.commit(pending.command, context: CommandContext(actor: .system, time: pending.time)).result {
                // The delegation went away between the decision and the record; the decision
                // stands, and the log keeps what the audit log could not.
                logger.warning("delegated send not recorded in the audit log", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
            return .done
        } catch let error as CommitUnavailable where !error.outcomeUnknown {
            return .unavailable
        } catch {
            logger.error("delegated send not recorded: the store failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .done
        }
    }

    private func queue(_ pending: Pending) async {
        if await !spool.append(pending) {
            logger.error("delegated send not recorded in the audit log: the queue for the time changes are refused is full", metadata: Self.metadata(pending))
        }
    }

    /// What the audit record would have said, for a log line that stands in for it.
    private static func metadata(_ pending: Pending) -> Logger.Metadata {
        guard case .recordDelegatedSend(let login, let sender, let delegation, let details) = pending.command else { return [:] }
        var metadata: Logger.Metadata = [
            "audit.login": "\(login)", "audit.sender": "\(sender)", "audit.grant": "\(delegation)",
            "audit.time": "\(Timestamp.format(pending.time))",
        ]
        if let details {
            metadata["audit.permission"] = "\(details.permission.rawValue)"
            metadata["audit.path"] = "\(details.path)"
            if let queueID = details.queueID { metadata["audit.queueid"] = "\(queueID)" }
            if let messageID = details.messageID { metadata["audit.messageid"] = "\(messageID)" }
        }
        return metadata
    }

    /// The queue itself, in order of the sends.
    private actor Spool {
        private static let depth = Gauge(label: "deputy_audit_queued_records")
        private static let droppedRecords = Counter(label: "deputy_audit_dropped_records_total")

        let capacity: Int
        private var items: [Pending] = []
        private var head = 0
        private(set) var dropped = 0

        init(capacity: Int) {
            self.capacity = capacity
            // Both series exist from the start, at zero, for alerts on them.
            Self.depth.record(0)
            Self.droppedRecords.increment(by: 0)
        }

        var count: Int { items.count - head }
        var first: Pending? { head < items.count ? items[head] : nil }

        /// Appends `pending`; false when the queue is full.
        func append(_ pending: Pending) -> Bool {
            guard count < capacity else {
                dropped += 1
                Self.droppedRecords.increment()
                return false
            }
            items.append(pending)
            Self.depth.record(count)
            return true
        }

        /// Empties the queue, counting what it held as dropped; returns it, in order.
        func drain() -> [Pending] {
            let left = Array(items[head...])
            dropped += left.count
            Self.droppedRecords.increment(by: Int64(left.count))
            items = []
            head = 0
            Self.depth.record(0)
            return left
        }

        func removeFirst() {
            guard head < items.count else { return }
            head += 1
            if head == items.count {
                items = []
                head = 0
            } else if head > 1_024, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            Self.depth.record(count)
        }
    }
}
