import Crypto
import DeputyCluster
import DeputyCore
import DeputyStore
import Foundation
import HashTreeCollections
import Synchronization
import Testing

/// Concurrent writers through several nodes: a gap-free log with a valid chain, and
/// conflicting commands decided once, the same way, everywhere.
@Suite(.serialized)
struct ConcurrentWriteTests {
    /// 8 appenders through 4 nodes at once: the log is contiguous from the first snapshot
    /// on, its chain recomputes, every acknowledged change is in it and on every node, and
    /// every node ends at the head with the same digest and the same bytes.
    @Test func eightConcurrentAppendersGiveAContiguousChain() async throws {
        try await ClusterHarness.run(nodes: 4) { harness in
            let perWriter = 60
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
                for writer in 0..<8 {
                    let node = harness.nodes[writer % 4]
                    group.addTask {
                        var names: [String] = []
                        for index in 0..<perWriter {
                            let name = "g\(writer)-\(index)"
                            let command = Command.addGroup(NewGroup(address: ClusterFixture.address(name), name: "Group \(name)", kind: .organization))
                            let result = try await node.commit(command, context: CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(5_000)))
                            if case .success = result { names.append(name) }
                        }
                        return names
                    }
                }
                var all: [String] = []
                for try await names in group { all += names }
                return all
            }
            #expect(acknowledged.count == 8 * perWriter)

            let genesis = Int64(harness.initial.revision)
            let rows = try await harness.logRows()
            #expect(rows.map(\.sequence) == Array((genesis + 1)...(genesis + Int64(8 * perWriter))), "the log has gaps or extra rows")
            var digest = ClusterHarness.bytes(Substring(try await harness.pair.sqlOnPrimary("SELECT encode(digest, 'hex') FROM deputy_snapshot ORDER BY seq LIMIT 1")))
            for row in rows {
                var hash = SHA256()
                hash.update(data: digest)
                hash.update(data: row.body)
                digest = Array(hash.finalize())
                #expect(digest == row.digest, "the chain breaks at \(row.sequence)")
            }

            try await harness.waitForConvergence()
            var snapshots: Set<[UInt8]> = []
            for node in harness.nodes {
                #expect(await node.applier.appliedDigest == digest)
                snapshots.insert(try await node.applier.snapshotBytes().bytes)
                for name in acknowledged {
                    #expect(node.live.directory.group(at: ClusterFixture.address(name)) != nil, "\(name) missing on \(node.settings.nodeName)")
                }
            }
            #expect(snapshots.count == 1)

            // Waits for a revision: one already applied returns at once; one the log does not
            // reach ends at its own deadline, false, even beside a longer wait.
            let node = harness.nodes[0]
            let applied = await node.applier.appliedSequence
            #expect(await node.applier.waitUntilApplied(applied, timeout: .milliseconds(1)))
            let started = ContinuousClock.now
            async let long = node.applier.waitUntilApplied(applied + 1_000, timeout: .seconds(3))
            let short = await node.applier.waitUntilApplied(applied + 1_000, timeout: .milliseconds(300))
            let shortTook = ContinuousClock.now - started
            #expect(!short)
            #expect(shortTook >= .milliseconds(300) && shortTook < .seconds(2), "the short wait took \(shortTook)")
            #expect(await !long)
            #expect(ContinuousClock.now - started >= .seconds(3))
        }
    }

    /// Eight writers through one node: enough under way for its appends to wait for
    /// company (group commit's delay). Every write is acknowledged once, in a contiguous
    /// log, and every node holds them all.
    @Test func eightWritersThroughOneNodeShareAppends() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let perWriter = 40
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let node = harness.nodes[0]
            let sequences = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var sequences: [Int64] = []
                        for index in 0..<perWriter {
                            let name = "one\(writer)-\(index)"
                            let command = Command.addGroup(NewGroup(address: ClusterFixture.address(name), name: "Group \(name)", kind: .organization))
                            let (result, sequence) = try await node.writer.commitReturningSequence(command, context: CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(5_000)))
                            if case .success = result { sequences.append(sequence) }
                        }
                        return sequences
                    }
                }
                var all: [Int64] = []
                for try await part in group { all += part }
                return all
            }
            let genesis = Int64(harness.initial.revision)
            #expect(sequences.sorted() == Array((genesis + 1)...(genesis + Int64(8 * perWriter))), "each write once, no gaps")
            try await harness.waitForConvergence()
            for other in harness.nodes {
                #expect(other.live.directory.revision == UInt64(genesis) + UInt64(8 * perWriter))
            }
        }
    }

    /// 200 rounds: the super administrator hands the role to two different administrators at
    /// once, through two nodes. Each round exactly one transfer succeeds and the other is
    /// refused, the same way on both nodes; the winner starts the next round.
    @Test func conflictingSuperAdministratorTransfersSucceedOnceEverywhere() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let names = ["boss", "admin0", "admin1", "admin2"]
            var holder = "boss"
            let rounds = Int(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_TRANSFER_ROUNDS"] ?? "") ?? 200
            for round in 0..<rounds {
                let candidates = names.filter { $0 != holder }
                let first = candidates[round % candidates.count]
                let second = candidates[(round + 1) % candidates.count]
                let actor = ClusterFixture.principal(holder, in: harness.nodes[0].live.directory)
                let time = ClusterFixture.start.addingTimeInterval(10_000 + Double(round))
                let context = CommandContext(actor: actor, time: time, reauthenticatedAt: time)
                async let viaFirst = harness.nodes[0].commit(.setRole(ClusterFixture.address(first), .superAdministrator), context: context)
                async let viaSecond = harness.nodes[1].commit(.setRole(ClusterFixture.address(second), .superAdministrator), context: context)
                let (one, two) = try await (viaFirst, viaSecond)
                let winners = [(first, one), (second, two)].filter { if case .success = $0.1 { true } else { false } }.map(\.0)
                #expect(winners.count == 1, "round \(round): \(one) / \(two)")
                for (_, result) in [(first, one), (second, two)] {
                    if case .failure(let error) = result { #expect(error.code == .denied, "round \(round): \(error)") }
                }
                guard let winner = winners.first else { break }
                holder = winner
                // Both nodes name the same super administrator once they have applied both.
                try await harness.waitForConvergence()
                for node in harness.nodes {
                    let directory = node.live.directory
                    #expect(directory.superAdministrator == directory.user(at: ClusterFixture.address(winner))?.id, "round \(round) on \(node.settings.nodeName)")
                    #expect(directory.users.values.filter { $0.role == .superAdministrator }.count == 1)
                }
            }
            let bytes = try await harness.nodes.asyncMap { try await $0.applier.snapshotBytes().bytes }
            #expect(Set(bytes).count == 1)
        }
    }
}
