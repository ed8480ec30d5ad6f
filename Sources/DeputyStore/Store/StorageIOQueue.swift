import Dispatch

/// A thread of its own for blocking file calls and long encodings.
///
/// An fsync can take milliseconds, and encoding a large directory seconds; made on the
/// cooperative pool (two threads on a two-core machine) they would stall unrelated tasks.
/// Work runs here in order, and the caller suspends until it is done.
public final class StorageIOQueue: Sendable {
    private let queue: DispatchQueue

    /// A queue whose thread is named `label`.
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `work` on the queue and returns its result.
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result(catching: work)) }
        }
        return try result.get()
    }
}
