import DeputyCluster
import DeputyCore
import Foundation
import Testing

/// A node stopped while two newer shared snapshots came finds, when it connects, that the
/// log no longer holds its position (retention removed the records after it), and reloads the
/// newest shared snapshot. On a large directory, reading and decoding it takes longer than a
/// catch-up may: timed by the same limit, the reload was abandoned, and begun again on every
/// reconnect, and the node never caught up.
@Suite(.serialized)
struct SnapshotReloadTests {
    @Test func aReloadSlowerThanTheLivenessLimitFinishes() async throws {
        var initial = ClusterFixture.initialDirectory()
        for index in 0..<10_000 {
            let user = NewUser(address: ClusterFixture.address("user\(index)"), displayName: "User \(index)", passwordHash: ClusterFixture.hash)
            _ = try initial.apply(.addUser(user), context: ClusterFixture.system(100 + index)).get()
        }
        let harness = try await ClusterHarness.start(nodes: 2, initial: initial) { settings in
            // A liveness limit of 200 ms: far less than reading and decoding the snapshot of
            // 10,000 users takes.
            settings.pollInterval = .milliseconds(20)
            settings.connectTimeout = .milliseconds(100)
            // A shared snapshot every two records, as soon as the last one is done.
            settings.sharedSnapshotEvery = 2
            settings.sharedSnapshotInterval = .zero
            settings.snapshotCostFactor = 0
        }
        do {
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(60_000))
            var written = 0
            func add() async throws {
                written += 1
                let name = "g\(written)"
                let result = try await harness.nodes[0].commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
                #expect((try? result.get()) != nil)
            }
            try await add()
            try await harness.waitForConvergence()
            let behind = await harness.nodes[1].applier.appliedSequence
            await harness.stopNode(1)

            // Writes until neither the log, a shared snapshot nor the head holds the stopped
            // node's position any more.
            let removed = try await ClusterFixture.waitUntil(seconds: 120) {
                try await add()
                let held = try await harness.pair.sqlOnPrimary(
                    "SELECT (SELECT count(*) FROM deputy_log WHERE seq = \(behind)) + (SELECT count(*) FROM deputy_snapshot WHERE seq = \(behind)) + (SELECT count(*) FROM deputy_head WHERE seq = \(behind))"
                )
                return held == "0"
            }
            #expect(removed, "the log still holds sequence \(behind)")

            let node = try await harness.reopenNode(1)
            #expect(node.startedFromLocalState)
            #expect(await ClusterFixture.waitUntil(seconds: 60) { await node.applier.rebootstrapCount == 1 }, "the node never finished reloading")
            try await harness.waitForConvergence()
            #expect(node.live.directory.group(at: ClusterFixture.address("g\(written)")) != nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
