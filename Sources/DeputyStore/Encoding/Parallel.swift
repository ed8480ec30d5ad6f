import Dispatch

/// Work spread over the machine's cores.
enum Parallel {
    /// `transform` applied to every job, spread over the machine's cores; the first error
    /// (in job order) is thrown.
    static func map<Job: Sendable, Output: Sendable>(
        _ jobs: [Job], _ transform: @escaping @Sendable (Job) throws -> Output
    ) throws -> [Output] {
        let slots = ResultSlots<Output>(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            slots.set(index, Result { try transform(jobs[index]) })
        }
        return try slots.results.map { try $0.get() }
    }
}

/// One result per job of a parallel map.
///
/// Unchecked: each slot is written by exactly one iteration of `concurrentPerform`, and
/// read only after it has returned, which orders every write before every read.
private final class ResultSlots<Output: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Result<Output, any Error>?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func set(_ index: Int, _ result: Result<Output, any Error>) {
        slots[index] = result
    }

    var results: [Result<Output, any Error>] {
        slots.map { $0! }
    }
}
