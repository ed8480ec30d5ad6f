@testable import DeputyCluster
import Synchronization
import Testing

/// Every query a node sends is given up after its limit, answered or not.
@Suite("Deadlines")
struct DeadlineTests {
    @Test("an operation that answers in time gives its answer or its error")
    func answered() async throws {
        #expect(try await withDeadline(.seconds(30), "adding") { 40 + 2 } == 42)
        await #expect(throws: ClusterError.self) {
            try await withDeadline(.seconds(30), "failing") { () async throws -> Int in throw ClusterError(.incompatible, "no") }
        }
    }

    @Test("an operation that never answers is given up after its limit, and left to itself")
    func givenUp() async throws {
        let gate = AsyncStream<Void>.makeStream()
        let started = ContinuousClock.now
        do {
            _ = try await withDeadline(.milliseconds(200), "waiting for nothing") {
                for await _ in gate.stream {}
                return 0
            }
            Issue.record("an operation that never answered was answered")
        } catch let error as ClusterError {
            #expect(error.description.contains("waiting for nothing: no answer within"), "\(error)")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(200) && waited < .seconds(10), "\(waited)")
        // Let the abandoned operation end: its late answer goes nowhere.
        gate.continuation.finish()
    }

    /// A node's applier follows the log in a task group: when the notifications end with
    /// the connection, the group is cancelled, and the catch-up query still waiting must end
    /// with it, not at its limit, or the node stops following for that long.
    @Test("a caller that is cancelled stops waiting at once, and the operation is left to itself")
    func cancelled() async throws {
        let gate = Gate()
        let started = Gate()
        let waiting = Task {
            try await withDeadline(.seconds(20), "waiting for nothing") {
                started.open()
                await gate.wait()
                return 0
            }
        }
        await started.wait()
        let cancelledAt = ContinuousClock.now
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        let waited = ContinuousClock.now - cancelledAt
        #expect(waited < .seconds(10), "a cancelled wait ended after \(waited)")
        gate.open()
    }

    /// A query written to a connection that has closed is never answered (postgres-nio
    /// drops its promise): an append's confirmation sent just as the primary died held the
    /// node's writes for the whole write timeout, though the node had already reconnected.
    @Test("an operation whose connection has ended is given up soon after, not at its limit")
    func connectionEnded() async throws {
        let gate = Gate()
        let closed = Mutex(false)
        let started = ContinuousClock.now
        let waiting = Task {
            try await withDeadline(.seconds(20), "waiting on a closed connection", endsWhen: { closed.withLock { $0 } }) {
                await gate.wait()
                return 0
            }
        }
        closed.withLock { $0 = true }
        do {
            _ = try await waiting.value
            Issue.record("an operation on a closed connection was answered")
        } catch let error as ClusterError {
            #expect(error.description == "waiting on a closed connection: the connection ended before it answered", "\(error)")
        }
        let waited = ContinuousClock.now - started
        #expect(waited < .seconds(10), "given up after \(waited)")
        gate.open()
    }

    @Test("an operation answered while its connection is open is not given up")
    func connectionOpen() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(5))
        let value = try await withDeadline(.seconds(20), "answering", endsWhen: { false }, watch: watch) { 7 }
        #expect(value == 7)
        #expect(watch.count == 0)
    }

    @Test("a caller cancelled before it asks does not start the operation")
    func cancelledBefore() async throws {
        let ran = Mutex(false)
        let gate = Gate()
        let waiting = Task {
            // Cancelled while it waits here, before it asks.
            await gate.wait()
            return try await withDeadline(.seconds(20), "never to run") {
                ran.withLock { $0 = true }
                return 0
            }
        }
        waiting.cancel()
        gate.open()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(!ran.withLock { $0 })
    }

    @Test("many at once: each is answered or given up on its own, and none stays watched")
    func many() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(5))
        let gate = Gate()
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        _ = try await withDeadline(.milliseconds(index % 2 == 0 ? 100 : 30_000), "operation \(index)", watch: watch) {
                            // The odd ones answer at once; the even ones not before the gate opens.
                            if index % 2 == 0 { await gate.wait() }
                            return index
                        }
                        return true
                    } catch is ClusterError {
                        return false
                    }
                }
            }
            var outcomes: [Bool] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.filter { $0 }.count == 100 && outcomes.filter { !$0 }.count == 100)
        // Given up or answered, nothing of these is watched any more.
        #expect(watch.count == 0)
        gate.open()
    }
}
