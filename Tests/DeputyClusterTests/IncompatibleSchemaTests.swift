import DeputyCluster
import DeputyCore
import Foundation
import Testing

/// A node whose applier meets what reconnecting does not mend (here, a cluster schema this
/// build does not know, as during an upgrade done in the wrong order) stops following the
/// log and says so, serves the directory it has, and tries again every
/// ``ClusterSettings/incompatibleRetry``: once the database is one it knows, it follows
/// again by itself, with no restart.
@Suite(.serialized)
struct IncompatibleSchemaTests {
    @Test func aNodeThatMeetsAnUnknownSchemaServesWhatItHasAndFollowsAgainOnceItIsKnown() async throws {
        let retry = Duration.milliseconds(500)
        try await ClusterHarness.run(nodes: 2, configure: { $0.incompatibleRetry = retry }) { harness in
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(60_000))
            func addGroup(_ name: String) async throws {
                let result = try await harness.nodes[0].commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
                #expect((try? result.get()) != nil)
            }
            try await addGroup("before")
            try await harness.waitForConvergence()
            let node = harness.nodes[1]
            let warningsBefore = ClusterFixture.warnings.all.count
            func refusals() -> Int {
                ClusterFixture.warnings.all.dropFirst(warningsBefore).filter {
                    $0.contains("node=\(node.settings.nodeName) ") && $0.contains("not following the log") && $0.contains("schema version 99")
                }.count
            }

            // A schema version from the future, and the second node's applier made to
            // reconnect: the schema is checked as a connection begins to follow the log.
            _ = try await harness.pair.sqlOnPrimary("UPDATE deputy_schema SET version = 99")
            _ = try await harness.pair.sqlOnPrimary(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'deputyd-\(node.settings.nodeName)-apply'"
            )
            // Refused, then refused again at the next try: it goes on trying, and does not
            // follow while the schema is unknown.
            #expect(await ClusterFixture.waitUntil(seconds: 30) { refusals() >= 2 }, "the node did not keep refusing the unknown schema: \(ClusterFixture.warnings.all.dropFirst(warningsBefore))")
            #expect(await node.applier.isFollowing == false)

            // The other node, whose connections were not touched, still takes writes; this
            // one does not apply them, and serves the directory it has.
            let applied = await node.applier.appliedSequence
            try await addGroup("during")
            let tries = refusals()
            #expect(await ClusterFixture.waitUntil(seconds: 30) { refusals() > tries }, "the node stopped trying")
            #expect(await node.applier.appliedSequence == applied, "the node applied records while the schema was unknown")
            #expect(node.live.directory.group(at: ClusterFixture.address("before")) != nil)
            #expect(node.live.directory.group(at: ClusterFixture.address("during")) == nil)

            // The schema known again: the next try follows the log and catches up, far sooner
            // than the default retry of 30 s (the bound leaves room for a slow reconnect).
            _ = try await harness.pair.sqlOnPrimary("UPDATE deputy_schema SET version = \(ClusterSchema.version)")
            let restored = ContinuousClock.now
            let caughtUp = await ClusterFixture.waitUntil(seconds: 20) {
                node.live.directory.group(at: ClusterFixture.address("during")) != nil
            }
            let after = ContinuousClock.now - restored
            print("IncompatibleSchemaTests: refused \(refusals()) times; applied the change made meanwhile \(after) after the schema was known again")
            #expect(caughtUp, "the node did not follow the log again once the schema was known")
            #expect(after < .seconds(15), "it followed again only after \(after)")
            #expect(await ClusterFixture.waitUntil(seconds: 10) { await node.applier.isFollowing })
            try await harness.waitForConvergence()
        }
    }
}
