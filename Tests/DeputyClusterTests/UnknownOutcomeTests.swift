import DeputyCluster
import DeputyCore
import Foundation
import Testing

/// When an append's outcome is unknown (its connection stopped answering), the node looks
/// its request id up once it is connected again, and says in its log what became of the
/// change: an operator retries a change, or not, on that word. So "not stored" must be
/// final, and said only when the log can tell.
@Suite(.serialized)
struct UnknownOutcomeTests {
    /// A partition holds an append on its way to the server. The node gives it up,
    /// connects again once the network is back, and looks its id up; then the held bytes,
    /// retransmitted, reach the old session, which the server never saw end. Unless that
    /// session is ended first, it commits the change after the node said it was not made.
    @Test func anAppendStillOnItsWayIsStoppedBeforeItsIdIsLookedUp() async throws {
        try await Self.withProxiedPrimary { harness, proxy, throughProxy in
            let node = try await harness.addNode(name: "n1") { settings in
                throughProxy(&settings)
                settings.writeTimeout = .seconds(2)
            }
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(70_000))
            func add(_ name: String) async throws -> Result<CommandResult, DirectoryError> {
                try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
            }
            #expect((try? await add("before").get()) != nil)
            let session = try await harness.pair.sqlOnPrimary("SELECT pid FROM pg_stat_activity WHERE application_name = 'deputyd-n1-append'")
            #expect(Int(session) != nil, "no append session: \(session)")

            await proxy.hold(.toServer)
            do {
                let result = try await add("held")
                Issue.record("a change the server never received was answered: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .indeterminate, "\(error)")
            }
            // New connections pass: the node connects again and looks the id up.
            #expect(await ClusterFixture.waitUntil {
                let connected = await node.writer.isConnected
                let unresolved = await node.writer.unresolvedCount
                return connected && unresolved == 0
            })

            // The network heals: what was held reaches the old session, if it is still there.
            await proxy.release()
            #expect(try await ClusterFixture.waitUntil {
                try await harness.pair.sqlOnPrimary("SELECT count(*) FROM pg_stat_activity WHERE pid = \(session)") == "0"
            }, "the old session never ended")
            let stored = try await harness.pair.sqlOnPrimary(
                "SELECT count(*) FROM deputy_log WHERE convert_from(body, 'UTF8')::jsonb #>> '{command,addGroup,_0,address}' = 'held@acme.test'"
            )
            let resolutions = await node.writer.resolutions
            #expect(resolutions.stored + resolutions.notStored + resolutions.untold == 1, "\(resolutions)")
            if stored == "1" {
                #expect(resolutions.stored == 1, "the change was made after the node said it was not: \(resolutions)")
            } else {
                #expect(resolutions.notStored == 1, "\(resolutions)")
            }
            // Writes go on.
            #expect((try? await add("after").get()) != nil)
        }
    }

    /// An append given up while it waits for the synchronous standby has already committed
    /// on the primary: its session is past the point where ending it would stop the change,
    /// and ending it would let its rows be read before the standby has them. The node leaves
    /// it to finish and looks its id up behind it (the head lock orders the two), once the
    /// standby is back.
    @Test func anAppendWaitingForTheStandbyIsLeftToFinish() async throws {
        try await ClusterHarness.run(nodes: 1, configure: { $0.writeTimeout = .seconds(2) }) { harness in
            let node = harness.nodes[0]
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(72_000))
            func add(_ name: String) async throws -> Result<CommandResult, DirectoryError> {
                try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
            }
            #expect((try? await add("before").get()) != nil)
            let standby = harness.pair.primary.other
            try await harness.pair.kill(standby)
            do {
                let result = try await add("waiting")
                Issue.record("a change no standby has was answered: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .indeterminate, "\(error)")
            }
            let waiting = try await harness.pair.sqlOnPrimary("SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
            #expect(Int(waiting) != nil, "no append waits for the standby: \(waiting)")
            // The node connects again and looks the id up: its look-up queues behind the
            // waiting append's head lock.
            #expect(try await ClusterFixture.waitUntil {
                try await harness.pair.sqlOnPrimary(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'deputyd-n1-append' AND wait_event_type = 'Lock'"
                ) != "0"
            }, "the node never looked the id up")
            #expect(try await harness.pair.sqlOnPrimary("SELECT wait_event FROM pg_stat_activity WHERE pid = \(waiting)") == "SyncRep", "the waiting append was ended")
            #expect(
                try await harness.pair.sqlOnPrimary(
                    "SELECT count(*) FROM deputy_log WHERE convert_from(body, 'UTF8')::jsonb #>> '{command,addGroup,_0,address}' = 'waiting@acme.test'"
                ) == "0",
                "the change can be read though no standby has it"
            )

            try await harness.pair.restart(standby)
            #expect(await ClusterFixture.waitUntil(seconds: 60) {
                let connected = await node.writer.isConnected
                let unresolved = await node.writer.unresolvedCount
                return connected && unresolved == 0
            })
            let resolutions = await node.writer.resolutions
            #expect(resolutions.stored == 1 && resolutions.notStored == 0 && resolutions.untold == 0, "\(resolutions)")
            #expect(await ClusterFixture.waitUntil { node.live.directory.group(at: ClusterFixture.address("waiting")) != nil })
        }
    }

    /// An append's reply is lost in a partition that lasts while other nodes write on and
    /// two newer shared snapshots are stored: retention removes the change's row. Its id is
    /// then not in the log, though the change was made (every node has it); the node must
    /// say the log can no longer tell, not that it was not stored.
    @Test func anIdWhoseRowsWereRemovedIsNotCalledNotStored() async throws {
        try await Self.withProxiedPrimary { harness, proxy, throughProxy in
            func snapshotsOften(_ settings: inout ClusterSettings) {
                // A shared snapshot every two records, as soon as the last one is done.
                settings.sharedSnapshotEvery = 2
                settings.sharedSnapshotInterval = .zero
                settings.snapshotCostFactor = 0
            }
            let writer = try await harness.addNode(name: "n1") { snapshotsOften(&$0) }
            let cut = try await harness.addNode(name: "n2") { settings in
                snapshotsOften(&settings)
                throughProxy(&settings)
                settings.writeTimeout = .seconds(2)
            }
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(71_000))
            func add(_ name: String, through node: ClusterNode) async throws -> Result<CommandResult, DirectoryError> {
                try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
            }
            #expect((try? await add("before", through: cut).get()) != nil)

            // The server's replies stop reaching n2, and it can't connect again.
            await proxy.hold(.toClient)
            proxy.refuseNew()
            do {
                let result = try await add("unheard", through: cut)
                Issue.record("a change whose reply never came was answered: \(result)")
            } catch let error as ClusterError {
                #expect(error.kind == .indeterminate, "\(error)")
            }
            // It was made: the other node has it.
            #expect(await ClusterFixture.waitUntil { writer.live.directory.group(at: ClusterFixture.address("unheard")) != nil })
            #expect(await cut.writer.unresolvedCount == 1)

            // Writes through n1 until retention has removed the change's row.
            var written = 0
            let removed = try await ClusterFixture.waitUntil(seconds: 120) {
                written += 1
                _ = try await add("g\(written)", through: writer)
                let rows = try await harness.pair.sqlOnPrimary(
                    "SELECT count(*) FROM deputy_log WHERE convert_from(body, 'UTF8')::jsonb #>> '{command,addGroup,_0,address}' = 'unheard@acme.test'"
                )
                return rows == "0"
            }
            #expect(removed, "retention never removed the change's row")

            proxy.acceptNew()
            await proxy.release()
            #expect(await ClusterFixture.waitUntil(seconds: 60) {
                let connected = await cut.writer.isConnected
                let unresolved = await cut.writer.unresolvedCount
                return connected && unresolved == 0
            })
            let resolutions = await cut.writer.resolutions
            #expect(resolutions.notStored == 0, "a change that was made was said not to be: \(resolutions)")
            #expect(resolutions.untold == 1, "\(resolutions)")
            // n2 catches up, from a shared snapshot, and has the change.
            try await harness.waitForConvergence()
            #expect(cut.live.directory.group(at: ClusterFixture.address("unheard")) != nil)
        }
    }

    /// Runs `body` with a harness without nodes and a proxy in front of its primary, and a
    /// change of a node's settings that reaches the primary through the proxy; stops both
    /// afterwards, whether `body` throws or not.
    private static func withProxiedPrimary(
        _ body: (ClusterHarness, PausableProxy, _ throughProxy: @escaping @Sendable (inout ClusterSettings) -> Void) async throws -> Void
    ) async throws {
        let harness = try await ClusterHarness.start(nodes: 0)
        let primaryPort = harness.pair.ports[harness.pair.primary]!
        let proxy: PausableProxy
        do {
            proxy = try await PausableProxy.start(upstreamPort: primaryPort)
        } catch {
            await harness.stop()
            throw error
        }
        let proxyPort = proxy.port
        let throughProxy: @Sendable (inout ClusterSettings) -> Void = { settings in
            settings.endpoints = settings.endpoints.map { $0.port == primaryPort ? ClusterSettings.Endpoint(host: "localhost", port: proxyPort) : $0 }
        }
        do {
            try await body(harness, proxy, throughProxy)
        } catch {
            await proxy.stop()
            await harness.stop()
            throw error
        }
        await proxy.stop()
        await harness.stop()
    }
}
