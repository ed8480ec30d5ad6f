import Synchronization

/// What has woken a node's applier since it last looked: the newest head of the log that a
/// notification named, and whether a poll tick came.
///
/// `deputy_append` notifies with the head it left. Several appends usually commit while one
/// catch-up runs, and that catch-up reads their rows too; the wake-ups they leave behind
/// would each cost a query that finds nothing. A wake-up whose head this node has already
/// applied is skipped instead. A poll tick always reads the log: it is the fallback for a
/// lost notification and proves that the primary still answers.
final class LogWakeups: Sendable {
    private let state = Mutex(Wake(pollDue: false, notifiedHead: nil))

    /// A notification on the log's channel, whose payload is the head after an append.
    /// A payload that is not a sequence counts as a head beyond any position.
    func notified(payload: String) {
        let head = Int64(payload) ?? .max
        state.withLock { wake in wake.notifiedHead = max(wake.notifiedHead ?? head, head) }
    }

    /// A poll tick.
    func pollTick() {
        state.withLock { $0.pollDue = true }
    }

    /// Takes everything that came since the last call.
    func take() -> Wake {
        state.withLock { wake in
            defer { wake = Wake(pollDue: false, notifiedHead: nil) }
            return wake
        }
    }
}

/// The wake-ups taken at once by ``LogWakeups/take()``.
struct Wake: Equatable, Sendable {
    var pollDue: Bool
    /// The newest head notified, if any notification came.
    var notifiedHead: Int64?

    /// Whether the log may hold records after `position`: after a poll tick, or when a
    /// notification named a head beyond it.
    func needsCatchUp(after position: Int64) -> Bool {
        if pollDue { return true }
        guard let notifiedHead else { return false }
        return notifiedHead > position
    }
}
