import PostgresNIO
import Synchronization

/// Runs `operation`, but gives up on it after `limit`, soon after `gone` says that the
/// connection it waits on has ended, or at once when the calling task is cancelled: the
/// caller gets an `unavailable` error, or a `CancellationError`, and the operation is left
/// to finish (or not) on its own.
///
/// postgres-nio 1.33.2 never answers a query written to a connection that has already
/// closed: its promise is dropped with the write. Every query the cluster sends goes through
/// this, so that such a query costs a reconnect, not a node that stops following the log.
/// Whatever the abandoned operation does if it ever resumes must be harmless; the applier
/// checks that its connection is still the current one before it changes anything.
///
/// Such a query is given up once its connection has been seen closed for
/// ``DeadlineWatch/endedGrace``, rather than at its limit: an append's confirmation sent just
/// as the primary died held every write of the node behind it for the write timeout,
/// though the node had reconnected meanwhile. A query that was in flight when the
/// connection closed gets the connection's own error from postgres-nio within the grace,
/// and that is what the caller sees.
///
/// Cancellation ends the wait because the applier's tasks are a group that is cancelled as
/// a whole when its connection fails: a catch-up query left waiting on the dead connection
/// would otherwise hold the group, and the node off the log, until the query's limit.
///
/// The limit is kept by `watch`, to within its tick.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, endsWhen gone: (@Sendable () -> Bool)? = nil, watch: DeadlineWatch = .shared,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let answer = DeadlineAnswer<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            // Cancelled before it asked: answered already, and nothing is started.
            guard answer.attach(continuation) else { return }
            let watched = watch.add(until: .now + limit, endsWhen: gone) { expiry in
                switch expiry {
                case .limit: answer.give(.failure(ClusterError(.unavailable, "\(what): no answer within \(limit)")))
                case .ended: answer.give(.failure(ClusterError(.unavailable, "\(what): the connection ended before it answered")))
                }
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

/// ``withDeadline(_:_:endsWhen:watch:_:)`` for a query on `connection`: given up soon after
/// the connection closes.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, on connection: PostgresConnection, watch: DeadlineWatch = .shared,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(limit, what, endsWhen: { connection.isClosed }, watch: watch, operation)
}

/// The first of the answers to one ``withDeadline(_:_:endsWhen:watch:_:)``: the operation's, the
/// watch's, or the cancellation's, which may come before the wait has begun.
private final class DeadlineAnswer<T: Sendable>: Sendable {
    private enum State {
        /// Neither the wait nor an answer yet.
        case idle
        case waiting(CheckedContinuation<T, any Error>)
        /// An answer that came before the wait began (a cancellation).
        case answeredEarly(Result<T, any Error>)
        case answered
    }

    private let state = Mutex(State.idle)

    /// Begins the wait; false when an answer came first, which then resumes it at once.
    func attach(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let early = state.withLock { state -> Result<T, any Error>? in
            guard case .answeredEarly(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .answered
            return result
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// Gives `result` to the wait unless another answer came first.
    func give(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            switch state {
            case .idle:
                state = .answeredEarly(result)
                return nil
            case .waiting(let continuation):
                state = .answered
                return continuation
            case .answeredEarly, .answered:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}

/// Gives up on every operation of ``withDeadline(_:_:endsWhen:watch:_:)`` that is overdue,
/// or whose connection has ended, from one task that looks at them all each tick while any
/// is under way.
///
/// Every query a node sends has a deadline, hundreds a second on a busy node. A timer task
/// for each made every query two tasks, a timer set and then cancelled, and a wake-up of
/// the cancelled timer: work for the threads that apply the log and append to it.
final class DeadlineWatch: Sendable {
    /// The one watch of the process.
    static let shared = DeadlineWatch(tick: .milliseconds(20))

    /// How long an operation's connection is seen closed before the operation is given up:
    /// long enough for postgres-nio to fail a query that was in flight with the
    /// connection's own error, which says more.
    static let endedGrace = Duration.milliseconds(50)

    /// Why an operation was given up.
    enum Expiry: Sendable {
        /// Its limit passed.
        case limit
        /// Its connection ended.
        case ended
    }

    /// How often overdue operations are looked for: how late past its limit one is given up.
    let tick: Duration

    private struct Watched {
        let deadline: ContinuousClock.Instant
        let gone: (@Sendable () -> Bool)?
        /// When its connection was first seen closed.
        var goneSince: ContinuousClock.Instant?
        let expire: @Sendable (Expiry) -> Void
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

    /// Watches an operation: `expire` runs once `deadline` has passed, or once `gone` has
    /// said true for ``endedGrace``, unless ``remove(_:)`` comes first. Returns what names it
    /// to ``remove(_:)``.
    func add(until deadline: ContinuousClock.Instant, endsWhen gone: (@Sendable () -> Bool)? = nil, _ expire: @escaping @Sendable (Expiry) -> Void) -> Int {
        let (id, start) = state.withLock { state -> (Int, Bool) in
            state.nextID += 1
            state.watched[state.nextID] = Watched(deadline: deadline, gone: gone, expire: expire)
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

    /// Each tick, expires what is overdue or whose connection has ended; ends when nothing
    /// is left to watch.
    private func look() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, done) = state.withLock { state -> ([(Watched, Expiry)], Bool) in
                var expired: [(Watched, Expiry)] = []
                for (id, var watched) in state.watched {
                    if watched.deadline <= now {
                        expired.append((watched, .limit))
                        state.watched[id] = nil
                    } else if let gone = watched.gone, gone() {
                        if let since = watched.goneSince {
                            if now - since >= Self.endedGrace {
                                expired.append((watched, .ended))
                                state.watched[id] = nil
                            }
                        } else {
                            watched.goneSince = now
                            state.watched[id] = watched
                        }
                    }
                }
                if state.watched.isEmpty { state.looking = false }
                return (expired, state.watched.isEmpty)
            }
            for (watched, expiry) in expired { watched.expire(expiry) }
            if done { return }
        }
    }
}
