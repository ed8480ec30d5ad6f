import Testing

/// The harness's bounded wait for a node task: a task that won't end fails the test in
/// bounded time instead of holding the run.
@Suite("Waiting for a task to end")
struct TaskEndingTests {
    @Test("a task that ignores its cancellation is waited for up to the limit, then reported as not ended")
    func notEnded() async throws {
        let gate = Gate()
        // Cancelling this task does not end it: a continuation waits for its resume alone.
        let task = Task { await gate.wait() }
        task.cancel()
        let started = ContinuousClock.now
        #expect(await TaskEnding.ended(task, within: .milliseconds(200)) == false)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(200) && waited < .seconds(10), "\(waited)")

        gate.open()
        let again = ContinuousClock.now
        #expect(await TaskEnding.ended(task, within: .seconds(30)))
        #expect(ContinuousClock.now - again < .seconds(10))
    }

    @Test("a task already ended is answered at once")
    func alreadyEnded() async throws {
        let task = Task<Void, Never> {}
        await task.value
        let started = ContinuousClock.now
        #expect(await TaskEnding.ended(task, within: .seconds(30)))
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

