import Synchronization

/// Runs `operation`, but gives up on it after `limit`: the caller gets an `unavailable`
/// error then, and the operation is left to finish (or not) on its own.
///
/// postgres-nio 1.33.2 never answers a query written to a connection that has already
/// closed: its promise is dropped with the write. Every query the cluster sends goes through
/// this, so that such a query costs a reconnect, not a node that stops following the log.
/// Whatever the abandoned operation does if it ever resumes must be harmless; the applier
/// checks that its connection is still the current one before it changes anything.
func withDeadline<T: Sendable>(_ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let answered = Mutex(false)
        let answer: @Sendable (Result<T, any Error>) -> Void = { result in
            let first = answered.withLock { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(with: result) }
        }
        let timer = Task {
            try await Task.sleep(for: limit)
            answer(.failure(ClusterError(.unavailable, "\(what): no answer within \(limit)")))
        }
        Task {
            do {
                answer(.success(try await operation()))
            } catch {
                answer(.failure(error))
            }
            timer.cancel()
        }
    }
}
