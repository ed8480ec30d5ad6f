import Synchronization

/// Runs `operation`, but gives up on it after `limit`, or at once when the calling task is
/// cancelled: the caller gets an `unavailable` error, or a `CancellationError`, and the
/// operation is left to finish (or not) on its own.
///
/// postgres-nio 1.33.2 never answers a query written to a connection that has already
/// closed: its promise is dropped with the write. Every query the cluster sends goes through
/// this, so that such a query costs a reconnect, not a node that stops following the log.
/// Whatever the abandoned operation does if it ever resumes must be harmless; the applier
/// checks that its connection is still the current one before it changes anything.
///
/// Cancellation ends the wait because the applier's tasks are a group that is cancelled as
/// a whole when its connection fails: a catch-up query left waiting on the dead connection
/// would otherwise hold the group, and the node off the log, until the query's limit.
///
/// The limit is kept by `watch`, to within its tick.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, watch: DeadlineWatch = .shared, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let answer = DeadlineAnswer<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            // Cancelled before it asked: answered already, and nothing is started.
            guard answer.attach(continuation) else { return }
            let watched = watch.add(until: .now + limit) {
                answer.give(.failure(ClusterError(.unavailable, "\(what): no answer within \(limit)")))
            }
            Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await operation())
                } catch {
                    result = .failure(error)
                }
                watch.remove(watched)
                answer.give(result)
            }
        }
    } onCancel: {
        answer.give(.failure(CancellationError()))
    }
}

/// The first of the answers to one ``withDeadline(_:_:watch:_:)``: the operation's, the
/// watch's, or the cancellation's, which may come before the wait has begun.
private final class DeadlineAnswer<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// An answer that came before the wait began (a cancellation).
        var early: Result<T, any Error>?
        var answered = false
    }

    private let state = Mutex(State())

    /// Begins the wait; false when an answer came first, which then resumes it at once.
    func attach(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early {
                state.answered = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// Gives `result` to the wait unless another answer came first.
    func give(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.answered else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return nil
            }
            state.answered = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }
}

/// Gives up on every operation of ``withDeadline(_:_:_:)`` that is overdue, from one task
/// that looks at them all each tick while any is under way.
///
/// Every query a node sends has a deadline, hundreds a second on a busy node. A timer task
/// for each made every query two tasks, a timer set and then cancelled, and a wake-up of
/// the cancelled timer: work for the threads that apply the log and append to it.
final class DeadlineWatch: Sendable {
    /// The one watch of the process.
    static let shared = DeadlineWatch(tick: .milliseconds(20))

    /// How often overdue operations are looked for: how late past its limit one is given up.
    let tick: Duration

    private struct Watched {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var nextID = 0
        var watched: [Int: Watched] = [:]
        /// Whether the task that looks at them is running.
        var looking = false
    }

    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = tick
    }

    /// Watches an operation: `expire` runs once `deadline` has passed, unless ``remove(_:)``
    /// comes first. Returns what names it to ``remove(_:)``.
    func add(until deadline: ContinuousClock.Instant, _ expire: @escaping @Sendable () -> Void) -> Int {
        let (id, start) = state.withLock { state -> (Int, Bool) in
            state.nextID += 1
            state.watched[state.nextID] = Watched(deadline: deadline, expire: expire)
            defer { state.looking = true }
            return (state.nextID, !state.looking)
        }
        if start { Task { await self.look() } }
        return id
    }

    /// Stops watching an operation that ended.
    func remove(_ id: Int) {
        _ = state.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// The number of operations watched now.
    var count: Int { state.withLock { $0.watched.count } }

    /// Each tick, expires what is overdue; ends when nothing is left to watch.
    private func look() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (overdue, done) = state.withLock { state -> ([Watched], Bool) in
                let overdue = state.watched.filter { $0.value.deadline <= now }
                for id in overdue.keys { state.watched[id] = nil }
                if state.watched.isEmpty { state.looking = false }
                return (Array(overdue.values), state.watched.isEmpty)
            }
            for watched in overdue { watched.expire() }
            if done { return }
        }
    }
}
