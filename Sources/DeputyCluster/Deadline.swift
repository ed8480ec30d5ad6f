import Synchronization

/// Runs `operation`, but gives up on it after `limit`: the caller gets an `unavailable`
/// error then, and the operation is left to finish (or not) on its own.
///
/// postgres-nio 1.33.2 never answers a query written to a connection that has already
/// closed: its promise is dropped with the write. Every query the cluster sends goes through
/// this, so that such a query costs a reconnect, not a node that stops following the log.
/// Whatever the abandoned operation does if it ever resumes must be harmless; the applier
/// checks that its connection is still the current one before it changes anything.
///
/// The limit is kept by `watch`, to within its tick.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, watch: DeadlineWatch = .shared, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let answered = Mutex(false)
        let answer: @Sendable (Result<T, any Error>) -> Void = { result in
            let first = answered.withLock { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(with: result) }
        }
        let watched = watch.add(until: .now + limit) {
            answer(.failure(ClusterError(.unavailable, "\(what): no answer within \(limit)")))
        }
        Task {
            let result: Result<T, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            watch.remove(watched)
            answer(result)
        }
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
