@testable import DeputyCluster
import DeputyCore
import DeputyStore
import Foundation
import Testing

/// Shared snapshots are paced for the cluster: each node decides on its own when to try, so
/// the upload itself looks at the newest snapshot any node stored.
@Suite(.serialized)
struct SharedSnapshotTests {
    /// A node that reaches its turn while another node's snapshot is younger than the
    /// interval, or fewer records behind than `every`, stores nothing; past both, it stores
    /// its own.
    @Test func aNodeDoesNotUploadWhileAnotherNodesSnapshotIsRecent() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            var step = 0
            func write(through node: ClusterNode, _ count: Int) async throws {
                for _ in 0..<count {
                    step += 1
                    let name = "snap\(step)"
                    let command = Command.addGroup(NewGroup(address: ClusterFixture.address(name), name: "Group \(name)", kind: .organization))
                    let result = try await node.commit(command, context: CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(Double(1_000 + step))))
                    guard case .success = result else { throw SnapshotTestFailure.refused(name) }
                }
                try await harness.waitForConvergence()
            }
            func newest() async throws -> Int64 {
                Int64(try await harness.pair.sqlOnPrimary("SELECT max(seq) FROM deputy_snapshot"))!
            }
            let queue = StorageIOQueue(label: "deputy.tests.snapshots")
            func upload(from index: Int, every: Int, interval: Duration) async throws {
                // The upload before closes its connection, and so frees the snapshot lock,
                // in a task of its own: an attempt that found the lock held would skip for
                // that reason instead of the one under test.
                let free = try await ClusterFixture.waitUntil {
                    try await harness.pair.sqlOnPrimary("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == "0"
                }
                guard free else { throw SnapshotTestFailure.lockHeld }
                let node = harness.nodes[index]
                let connector = try PrimaryConnector(settings: node.settings, logger: ClusterFixture.logger)
                let position = await node.applier.position
                _ = await ClusterApplier.uploadSharedSnapshot(
                    position, connector: connector, node: node.settings.nodeName, every: every, interval: interval, queryLimit: .seconds(10), encodingOn: queue, logger: ClusterFixture.logger
                )
            }

            try await write(through: harness.nodes[0], 3)
            let first = await harness.nodes[0].applier.appliedSequence
            try await upload(from: 0, every: 1, interval: .zero)
            #expect(try await newest() == first, "nothing newer stored before: the first upload is made")

            try await write(through: harness.nodes[1], 3)
            let second = await harness.nodes[1].applier.appliedSequence
            try await upload(from: 1, every: 1, interval: .seconds(3_600))
            #expect(try await newest() == first, "the other node's snapshot is younger than the interval: no upload")
            try await upload(from: 1, every: 4, interval: .zero)
            #expect(try await newest() == first, "the other node's snapshot is 3 records behind, fewer than 4: no upload")
            try await upload(from: 1, every: 3, interval: .zero)
            #expect(try await newest() == second, "3 records behind and older than the interval: uploaded")
        }
    }
}

private enum SnapshotTestFailure: Error {
    case refused(String)
    case lockHeld
}
