/// The requests of a server's connections that must wait (a BIND's password hash, a
/// change's commit), run in tasks of the server's own task group rather than in tasks of
/// their own, so that the server's shutdown waits for them and nothing outlives it.
///
/// A connection hands a job over with ``run(_:)``; the server's ``jobs`` loop adds each
/// as a child task. Once every connection is closed, ``finish()`` ends the loop.
public final class SessionWaits: Sendable {
    public typealias Job = @Sendable () async -> Void

    /// The jobs, in the order they were handed over.
    public let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    public init() {
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Hands `job` to the server's task group.
    public func run(_ job: @escaping Job) {
        continuation.yield(job)
    }

    /// No connection will hand over another job.
    public func finish() {
        continuation.finish()
    }
}
