import DeputyClient
import DeputyProtocol
import Foundation
import Histogram

/// Replication lag as a client sees it across the nodes of a cluster: a change through one
/// node, then on every other node a query that waits for the revision the change's `OK`
/// carried (`revision=`, protocol.md). The time from the `OK` to each answer bounds how long
/// that node took to apply the change (one query round trip more).
enum LagProbe {
    /// The samples, from every probe task.
    final class Samples: @unchecked Sendable {
        private let lock = NSLock()
        private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        private var failures: [String] = []

        func add(nanoseconds: UInt64) { lock.withLock { _ = histogram.record(nanoseconds) } }
        func fail(_ reason: String) { lock.withLock { failures.append(reason) } }

        var summary: (milliseconds: [String: Double], text: String) {
            lock.withLock {
                let p50 = Double(histogram.valueAtPercentile(50)) / 1e6
                let p99 = Double(histogram.valueAtPercentile(99)) / 1e6
                let max = Double(histogram.max) / 1e6
                let count = Double(histogram.totalCount)
                let text = "replication lag (OK on one node to the answer of another waiting for its revision), \(Int(count)) samples: p50 \(format(p50)) ms, p99 \(format(p99)) ms, max \(format(max)) ms"
                    + (failures.isEmpty ? "" : "; \(failures.count) probes failed, first: \(failures[0])")
                return (["p50": p50, "p99": p99, "max": max, "samples": count, "failed": Double(failures.count)], text)
            }
        }
    }

    /// Probes until `end`, one every `interval`, through each node in turn; samples from
    /// `warmUp` on.
    static func run(_ nodes: [DeputyConnection], interval: Duration, warmUp: ContinuousClock.Instant, end: ContinuousClock.Instant, samples: Samples) async throws {
        var due = ContinuousClock.now
        var round = 0
        while due < end {
            // Pacing a load, not waiting for a condition: the next probe is due at a time.
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
            let writer = round % nodes.count
            let change = RequestLine(verb: "MODIFY", positionals: ["ORG"], named: ["name": "Lag probe \(round)"])!
            let reply = try await nodes[writer].send(change)
            let acknowledged = ContinuousClock.now
            guard let revision = reply.status.revision else {
                samples.fail("the change was answered \(reply.status)")
                round += 1
                due += interval
                continue
            }
            // Every other node at once, each timed on its own.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reader in nodes.indices where reader != writer {
                    let connection = nodes[reader]
                    group.addTask {
                        let query = RequestLine(verb: "QUERY", positionals: ["ORG"], named: ["revision": "\(revision)"])!
                        let answer = try await connection.send(query)
                        if !answer.status.isOK {
                            samples.fail("node \(reader + 1): \(answer.status)")
                        } else if acknowledged >= warmUp {
                            let lag = ContinuousClock.now - acknowledged
                            samples.add(nanoseconds: UInt64(Double(lag.components.seconds) * 1e9 + Double(lag.components.attoseconds) / 1e9))
                        }
                    }
                }
                try await group.waitForAll()
            }
            round += 1
            due += interval
        }
    }
}
