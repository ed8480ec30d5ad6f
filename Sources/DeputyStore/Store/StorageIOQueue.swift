import Dispatch

/// A thread of its own for blocking file calls.
///
/// An fsync can take milliseconds; made on the cooperative pool (two threads on a
/// two-core machine) it would stall unrelated tasks. Work runs here in order, and the
/// caller suspends until it is done.
final class StorageIOQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `work` on the queue and returns its result.
    func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result(catching: work)) }
        }
        return try result.get()
    }
}
