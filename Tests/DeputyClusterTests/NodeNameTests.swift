import DeputyCluster
import DeputyCore
import Foundation
import Testing

/// Two nodes given one `cluster-node` (a configuration copied whole to a second machine)
/// would show as one in `cluster status`, the stopped one hidden behind the other.
@Suite(.serialized)
struct NodeNameTests {
    @Test func aSecondNodeUnderOneNameIsNamedInTheLog() async throws {
        try await ClusterHarness.run(nodes: 1) { harness in
            let said = "another deputyd writes to the cluster under this node's name"
            let before = ClusterFixture.warnings.all.filter { $0.contains(said) }.count
            // A node stopped and started again is not taken for another.
            _ = try await harness.restartNode(0)
            #expect(await ClusterFixture.waitUntil { await harness.nodes[0].writer.isConnected })
            let quiet = await ClusterFixture.waitUntil(seconds: 4) { ClusterFixture.warnings.all.filter { $0.contains(said) }.count > before }
            #expect(!quiet, "a restarted node was taken for another of its name")

            try await harness.addNode(name: harness.nodes[0].settings.nodeName)
            #expect(await ClusterFixture.waitUntil { ClusterFixture.warnings.all.filter { $0.contains(said) }.count > before }, "two nodes of one name, and not a word")
        }
    }
}
