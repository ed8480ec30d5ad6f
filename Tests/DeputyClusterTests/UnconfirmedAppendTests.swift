import DeputyCluster
import DeputyCore
import Foundation
import Testing

/// A commit's wait for the synchronous standby can end without the standby: an operator
/// cancels it (`pg_cancel_backend`), or a failover manager without strict mode empties
/// `synchronous_standby_names` while the standby is away, and PostgreSQL lets every waiting
/// commit go as if the standby had it. The append then returns its sequences normally, but
/// the change is on the primary's disk only, and a failover would lose it: the node must not
/// answer `OK`.
@Suite(.serialized)
struct UnconfirmedAppendTests {
    /// Adds the organisation group `name` through `node`, as the super administrator, at
    /// `seconds` after the fixture's start.
    static func addGroup(_ name: String, through node: ClusterNode, harness: ClusterHarness, at seconds: Double) async throws -> Result<CommandResult, DirectoryError> {
        let boss = ClusterFixture.principal("boss", in: harness.initial)
        let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(seconds))
        return try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
    }

    enum Release: String, CaseIterable, Sendable {
        /// An operator cancels the waiting backend.
        case cancel
        /// `synchronous_standby_names` is emptied and the configuration reloaded.
        case emptyStandbyNames
    }

    @Test(arguments: Release.allCases)
    func appendLetGoWithoutTheStandbyIsNotAcknowledged(_ release: Release) async throws {
        try await ClusterHarness.run(nodes: 1, configure: { $0.writeTimeout = .seconds(2) }) { harness in
            let node = harness.nodes[0]
            func add(_ name: String) async throws -> Result<CommandResult, DirectoryError> {
                try await Self.addGroup(name, through: node, harness: harness, at: 50_000)
            }
            // With the standby streaming, a change is acknowledged.
            #expect((try? await add("confirmed").get()) != nil)

            try await harness.pair.kill(harness.pair.primary.other)
            let write = Task { try await add("unconfirmed") }
            #expect(try await ClusterFixture.waitUntil {
                try await harness.pair.sqlOnPrimary("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == "1"
            }, "the append never waited for the standby")
            switch release {
            case .cancel:
                try await harness.pair.sqlOnPrimary("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
            case .emptyStandbyNames:
                try await harness.pair.sqlOnPrimary("ALTER SYSTEM SET synchronous_standby_names = ''")
                try await harness.pair.sqlOnPrimary("SELECT pg_reload_conf()")
            }
            do {
                let result = try await write.value
                Issue.record("a change no standby has was answered: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .indeterminate, "\(error)")
                #expect(error.description.contains("no synchronous standby confirmed it"), "\(error)")
            }
            // The change is in the primary's log all the same: the node applies it, and only
            // its durability was in doubt.
            #expect(await ClusterFixture.waitUntil { node.live.directory.group(at: ClusterFixture.address("unconfirmed")) != nil })
            #expect(await node.writer.unresolvedCount == 0)
        }
    }

    /// The standbys' positions are shown only to roles with `pg_monitor`: without it no
    /// append could be confirmed, so the writer refuses to connect, says which `GRANT` is
    /// missing, and accepts writes once it is given.
    @Test func writesNeedTheRoleToSeeTheStandbys() async throws {
        try await ClusterHarness.run(nodes: 1) { harness in
            let node = harness.nodes[0]
            func add(_ name: String) async throws -> Result<CommandResult, DirectoryError> {
                try await Self.addGroup(name, through: node, harness: harness, at: 51_000)
            }
            let grant = "GRANT pg_monitor TO deputy"
            let before = ClusterFixture.warnings.all.filter { $0.contains(grant) }.count
            try await harness.pair.sqlOnPrimary("REVOKE pg_monitor FROM deputy")
            // Every session of the role ends: the node connects again, as after a failover.
            try await harness.pair.sqlOnPrimary("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'deputy'")
            #expect(await ClusterFixture.waitUntil { await !node.writer.isConnected })
            // The node has tried again, and logged the privilege it lacks.
            #expect(await ClusterFixture.waitUntil { ClusterFixture.warnings.all.filter { $0.contains(grant) }.count > before })
            do {
                let result = try await add("refused")
                Issue.record("a write was answered without a way to confirm it: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .unavailable, "\(error)")
                // The database answered: the client is not told it is unreachable.
                #expect(error.description.contains("can't be used as it is set up"), "\(error)")
            }

            try await harness.pair.sqlOnPrimary("GRANT pg_monitor TO deputy")
            #expect(await ClusterFixture.waitUntil { await node.writer.isConnected })
            #expect((try? await add("accepted").get()) != nil)
        }
    }

    /// A standby promoted by hand names no synchronous standby of its own until the
    /// operator gives it one, and until then `deputy_append` refuses every append. The node
    /// says so, with what to run, as it connects, not only in each refusal; and it accepts
    /// writes once the name is set, without a restart.
    @Test func aPrimaryWithoutSynchronousStandbyIsNamedInTheLog() async throws {
        try await ClusterHarness.run(nodes: 1) { harness in
            let node = harness.nodes[0]
            func add(_ name: String) async throws -> Result<CommandResult, DirectoryError> {
                try await Self.addGroup(name, through: node, harness: harness, at: 52_000)
            }
            let named = try await harness.pair.sqlOnPrimary("SHOW synchronous_standby_names")
            #expect(!named.isEmpty)
            let said = "the primary names no synchronous standby"
            let before = ClusterFixture.warnings.all.filter { $0.contains(said) }.count

            try await harness.pair.sqlOnPrimary("ALTER SYSTEM SET synchronous_standby_names = ''")
            try await harness.pair.sqlOnPrimary("SELECT pg_reload_conf()")
            // Every session of the role ends: the node connects again, as after a failover.
            try await harness.pair.sqlOnPrimary("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'deputy'")
            #expect(await ClusterFixture.waitUntil { ClusterFixture.warnings.all.filter { $0.contains(said) }.count > before }, "the node never said why writes are refused")
            #expect(ClusterFixture.warnings.all.last { $0.contains(said) }?.contains("ALTER SYSTEM SET synchronous_standby_names") == true)
            do {
                let result = try await add("refused")
                Issue.record("a write was answered without a synchronous standby: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .unavailable, "\(error)")
            }

            try await harness.pair.sqlOnPrimary("ALTER SYSTEM SET synchronous_standby_names = '\(named)'")
            try await harness.pair.sqlOnPrimary("SELECT pg_reload_conf()")
            #expect(await ClusterFixture.waitUntil { (try? await add("accepted").get()) != nil }, "writes stayed refused once the standby was named")
        }
    }
}
