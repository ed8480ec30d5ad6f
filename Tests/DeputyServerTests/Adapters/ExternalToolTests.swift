import Foundation
import Testing

/// The runner of the real mail programs ends what outlives its time, even a program that
/// ignores SIGTERM, so that a stuck Postfix or Dovecot tool fails its test rather than hold
/// the whole run.
@Suite("External tools")
struct ExternalToolTests {
    @Test("a program that ignores SIGTERM past its time is killed after the grace period")
    func programIgnoringTerminationIsKilled() async throws {
        let started = ContinuousClock.now
        // One process (exec), ignoring SIGTERM, that would otherwise run for a minute.
        let output = try await ExternalTool.run("sh", ["-c", "trap '' TERM; echo started; exec sleep 60"], seconds: 0.5)
        let took = ContinuousClock.now - started
        #expect(output.stdout == "started\n")
        #expect(output.status == SIGKILL, "ended with \(output.status)")
        #expect(took < .milliseconds(500) + ExternalTool.killGrace + .seconds(10), "took \(took)")
    }

    @Test("a program that ends in time gives its status and output")
    func programInTime() async throws {
        let output = try await ExternalTool.run("sh", ["-c", "cat; echo err >&2; exit 3"], input: "in\n")
        #expect(output.status == 3)
        #expect(output.stdout == "in\n")
        #expect(output.stderr == "err\n")
    }
}
