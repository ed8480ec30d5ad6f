import Dispatch

/// Two independent pieces of work run at once, on two of the machine's cores.
///
/// Used where a whole directory is built in one go (loading a snapshot), which otherwise
/// keeps one core busy while a mail server waits for the daemon to start.
enum Concurrently {
    /// The results of `first` and `second`, run side by side.
    static func both<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
        let results = Slots<A, B>()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            if index == 0 { results.first = first() } else { results.second = second() }
        }
        return (results.first!, results.second!)
    }

    /// Unchecked: each slot is written by one iteration of `concurrentPerform` and read only
    /// after it has returned, which orders the writes before the reads.
    private final class Slots<A, B>: @unchecked Sendable {
        var first: A?
        var second: B?
    }
}
