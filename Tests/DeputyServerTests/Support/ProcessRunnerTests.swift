import Testing

/// The tests' program runner ends what does not end by itself, so that a test fails rather
/// than hangs on it.
@Suite("Running programs from tests")
struct ProcessRunnerTests {
    @Test func aProgramGetsItsInputAndGivesItsOutputAndStatus() async throws {
        let run = try await ProcessRunner.run("/bin/sh", ["-c", "read line; echo \"got $line\"; echo oops >&2; exit 3"], input: "hello\n")
        #expect(run.output == "got hello\n")
        #expect(run.error == "oops\n")
        #expect(run.status == 3)
    }

    @Test func aProgramThatDoesNotEndIsKilledAtTheBound() async throws {
        let started = ContinuousClock.now
        await #expect(throws: TestFailure.self) {
            try await ProcessRunner.run("/bin/sh", ["-c", "echo started; exec sleep 60"], timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// A program that ends but leaves a process of its own holding its output: the output
    /// never ends, and the bound kills the process group.
    @Test func whatItLeftHoldingItsOutputIsKilledAtTheBound() async throws {
        let started = ContinuousClock.now
        await #expect(throws: TestFailure.self) {
            try await ProcessRunner.run("/bin/sh", ["-c", "sleep 60 & exit 0"], timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}
