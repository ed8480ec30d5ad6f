import Foundation
import Testing

/// Password guessing against the real `deputyd`, at its real password-hash cost.
@Suite("Brute force", .serialized)
struct SecurityBruteForceTests {
    @Test("the lockout count is configurable; locked, unknown and wrong all answer alike and cost alike")
    func guessing() async throws {
        let daemon = try await SecurityDaemon.start(["--lockout-failures", "3", "--lockout-address-failures", "1000"])
        let admin = try await daemon.adminClient()
        #expect(try await admin.send("ADD USER alice@example.test password=alice-right") == ["OK user alice@example.test added"])
        let guesser = try await daemon.tlsClient()
        let refused = ["ERR auth invalid credentials"]

        // Two wrong guesses leave the account open; the third locks it.
        for _ in 0..<2 { #expect(try await guesser.send("BIND alice@example.test wrong") == refused) }
        let other = try await daemon.tlsClient()
        #expect(try await other.send("BIND alice@example.test alice-right") == ["OK bound as alice@example.test"])
        for _ in 0..<3 { #expect(try await guesser.send("BIND alice@example.test wrong") == refused) }

        // Now: an unknown login, a wrong password and the right one on the locked account
        // get the same answer after the same work (a hash is checked in every case).
        var times: [String: [Duration]] = [:]
        for round in 0..<7 {
            for (kind, line) in [
                ("unknown", "BIND ghost\(round)@example.test wrong"), ("locked, wrong", "BIND alice@example.test wrong"),
                ("locked, right", "BIND alice@example.test alice-right"),
            ] {
                let start = ContinuousClock.now
                #expect(try await guesser.send(line) == refused, "\(kind)")
                times[kind, default: []].append(ContinuousClock.now - start)
            }
        }
        let medians = times.mapValues { $0.sorted()[$0.count / 2] }
        let slowest = medians.values.max()!
        let fastest = medians.values.min()!
        #expect(slowest < fastest * 1.5, "median BIND times differ: \(medians)")
        // A hash at the daemon's cost takes real time; an answer without one would not.
        #expect(fastest > .milliseconds(20), "\(medians)")
        print("BIND medians at the daemon's hash cost: \(medians)")
        #expect(await daemon.stop())
    }
}
