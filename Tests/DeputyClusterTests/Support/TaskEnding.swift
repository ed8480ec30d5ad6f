import Synchronization

/// Waits for a task to end, for a bounded time.
///
/// Awaiting a task's value can't be cancelled, and a task group waits for every child before
/// it returns, so a node task that never ends would hold a test (and the PostgreSQL pair it
/// stops afterwards) until the whole run's time limit. Here the wait and the timer each run
/// in an unstructured task, and the first to finish answers; a task that never ends leaves
/// only its waiter behind.
enum TaskEnding {
    /// Whether `task` ended within `limit`.
    static func ended(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            Task {
                await task.value
                answer.give(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                answer.give(false)
            }
        }
    }

    /// Resumes a continuation with the first answer given; later ones are dropped.
    private final class FirstAnswer: Sendable {
        private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

        init(_ continuation: CheckedContinuation<Bool, Never>) {
            self.continuation = Mutex(continuation)
        }

        func give(_ value: Bool) {
            let first = continuation.withLock { held in
                defer { held = nil }
                return held
            }
            first?.resume(returning: value)
        }
    }
}
