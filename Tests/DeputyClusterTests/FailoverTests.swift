import DeputyCluster
import DeputyCore
import DeputyDaemon
import DeputyMailAdapters
import DeputyStore
import Foundation
import Glibc
import Logging
import PostgresNIO
import Synchronization
import Testing

/// A flag writers poll to stop.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// What happens to writes and reads when PostgreSQL fails: no acknowledged change is lost,
/// no change is acknowledged that is not committed, reads go on, and every node converges.
@Suite(.serialized)
struct FailoverTests {
    /// What writers saw, per change.
    final class Ledger: Sendable {
        enum Answer: Sendable { case ok, refused, indeterminate, other(String) }
        typealias Entry = (name: String, answer: Answer, sent: ContinuousClock.Instant, at: ContinuousClock.Instant)
        private let answers = Mutex<[Entry]>([])

        func record(_ name: String, _ answer: Answer, sent: ContinuousClock.Instant) {
            answers.withLock { $0.append((name, answer, sent, .now)) }
        }

        var all: [Entry] { answers.withLock { $0 } }
        var acknowledged: Int { answers.withLock { $0.filter { if case .ok = $0.answer { true } else { false } }.count } }
    }

    /// Writers adding groups through `nodes` until `stop` is set; every answer in `ledger`.
    static func writers(_ count: Int, nodes: [ClusterNode], actor: Principal, ledger: Ledger, stop: StopFlag) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<count {
                    let node = nodes[writer % nodes.count]
                    group.addTask {
                        var index = 0
                        while !stop.isSet {
                            let name = "w\(writer)-\(index)"
                            index += 1
                            let sent = ContinuousClock.now
                            let command = Command.addGroup(NewGroup(address: ClusterFixture.address(name), name: "Group \(name)", kind: .organization))
                            do {
                                switch try await node.commit(command, context: CommandContext(actor: actor, time: ClusterFixture.start.addingTimeInterval(20_000))) {
                                case .success: ledger.record(name, .ok, sent: sent)
                                case .failure(let error): ledger.record(name, .other("\(error)"), sent: sent)
                                }
                            } catch let error as ClusterError where error.kind == .unavailable {
                                ledger.record(name, .refused, sent: sent)
                                // Refusals are immediate while the database is away: give
                                // the other tasks the cores meanwhile.
                                try? await Task.sleep(for: .milliseconds(20))
                            } catch let error as ClusterError where error.kind == .indeterminate {
                                ledger.record(name, .indeterminate, sent: sent)
                            } catch {
                                ledger.record(name, .other("\(error)"), sent: sent)
                            }
                        }
                    }
                }
            }
        }
    }

    /// kill -9 of the primary under write load from four writers through two nodes, the
    /// synchronous standby promoted, the old primary rewound as the new standby; five cycles
    /// (`DEPUTY_CLUSTER_FAILOVER_CYCLES` for more). Every acknowledged change is on every
    /// node and in the log; every refused one is in neither; an indeterminate one is on all
    /// nodes or on none; the nodes end byte-identical.
    @Test func primaryKilledUnderWriteLoadLosesNoAcknowledgedWrite() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let cycles = Int(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_FAILOVER_CYCLES"] ?? "") ?? 5
            let warningsBefore = ClusterFixture.warnings.all.count
            let ledger = Ledger()
            let stop = StopFlag()
            // The writers end with the test, also one that fails partway.
            defer { stop.set() }
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let writers = Self.writers(4, nodes: harness.nodes, actor: boss, ledger: ledger, stop: stop)
            var windows: [Double] = []
            for cycle in 0..<cycles {
                let before = ledger.acknowledged
                #expect(await ClusterFixture.waitUntil(seconds: 60) { ledger.acknowledged >= before + 50 }, "cycle \(cycle): writes did not resume")
                let killed = ContinuousClock.now
                try await harness.pair.failover()
                let resumed = ledger.acknowledged
                #expect(await ClusterFixture.waitUntil(seconds: 60) { ledger.acknowledged > resumed }, "cycle \(cycle): no write acknowledged after the failover")
                // The window without writes: from kill -9 to the first acknowledgement of a
                // write sent after it.
                let firstAfter = ledger.all.filter { entry in
                    if case .ok = entry.answer { entry.sent > killed } else { false }
                }.map(\.at).min()
                if let firstAfter { windows.append((firstAfter - killed).seconds) }
            }
            stop.set()
            await writers.value
            try await harness.waitForConvergence()

            let answers = ledger.all
            let others = answers.compactMap { if case .other(let text) = $0.answer { text } else { nil } }
            #expect(others.isEmpty, "unexpected answers: \(others.prefix(5))")
            let logged = Set(try await harness.pair.sqlOnPrimary(
                "SELECT convert_from(body, 'UTF8')::jsonb #>> '{command,addGroup,_0,address}' FROM deputy_log"
            ).split(separator: "\n").map(String.init))
            var counts = (ok: 0, refused: 0, indeterminate: 0, indeterminateStored: 0)
            for (name, answer, _, _) in answers {
                let address = ClusterFixture.address(name)
                let onNodes = harness.nodes.map { $0.live.directory.group(at: address) != nil }
                switch answer {
                case .ok:
                    counts.ok += 1
                    #expect(onNodes.allSatisfy { $0 } && logged.contains(address.description), "acknowledged \(name) was lost")
                case .refused:
                    counts.refused += 1
                    #expect(!onNodes.contains(true) && !logged.contains(address.description), "refused \(name) was made")
                case .indeterminate:
                    counts.indeterminate += 1
                    #expect(Set(onNodes).count == 1, "indeterminate \(name) is on some nodes only")
                    if onNodes[0] { counts.indeterminateStored += 1 }
                case .other: break
                }
            }
            let bytes = try await harness.nodes.asyncMap { try await $0.applier.snapshotBytes().bytes }
            #expect(Set(bytes).count == 1)
            // What the nodes logged of the failovers names each failure in PostgreSQL's or
            // the system's words, never postgres-nio's placeholder for a nested error.
            let warnings = ClusterFixture.warnings.all.dropFirst(warningsBefore)
            let vague = warnings.filter { $0.contains("Generic description") }
            #expect(vague.isEmpty, "\(vague.count) warnings name no cause, e.g. \(vague.first ?? "")")
            // The primary is killed, never paused: no query waits out its limit. One sent on a
            // connection that had just closed is given up as soon as the close is seen.
            let waitedOut = warnings.filter { $0.contains("no answer within") }
            #expect(waitedOut.isEmpty, "\(waitedOut.count) queries waited out their limit on a dead connection, e.g. \(waitedOut.first ?? "")")
            print("cluster failover: \(cycles) cycles, \(counts.ok) acknowledged (0 lost), \(counts.refused) refused, \(counts.indeterminate) indeterminate (\(counts.indeterminateStored) stored), writes sent after kill -9 first acknowledged after \(windows.map { String(format: "%.2f s", $0) }.joined(separator: ", "))")
        }
    }

    /// The phantom: a commit whose wait for the standby is cancelled becomes visible on the
    /// primary although the standby never got it. A node applies it; the primary dies; the
    /// standby, promoted, never had it. The node sees that the log no longer continues its
    /// state, reloads from the shared snapshot, and converges with the others; no node keeps
    /// the phantom.
    @Test func phantomRecordIsDetectedAndHealed() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let context = Self.bossContext(harness)
            func add(_ name: String, via node: ClusterNode) async throws { try await Self.addGroup(name, via: node, context: context) }
            try await add("before", via: harness.nodes[0])
            try await harness.waitForConvergence()

            let standby = try await Self.appendPhantom(
                LoggedCommand(context: context, command: .addGroup(NewGroup(address: ClusterFixture.address("phantom"), name: "phantom", kind: .organization))),
                harness: harness
            )
            for node in harness.nodes {
                #expect(await ClusterFixture.waitUntil { node.live.directory.group(at: ClusterFixture.address("phantom")) != nil }, "\(node.settings.nodeName) did not apply the phantom")
            }
            try await Self.failOver(to: standby, harness: harness)
            for node in harness.nodes {
                #expect(await ClusterFixture.waitUntil(seconds: 60) { await node.applier.rebootstrapCount == 1 }, "\(node.settings.nodeName) did not reload")
            }
            #expect(await ClusterFixture.waitUntil(seconds: 30) { await harness.nodes[1].writer.isConnected })
            try await add("after", via: harness.nodes[1])
            try await harness.waitForConvergence()
            for node in harness.nodes {
                let directory = node.live.directory
                #expect(directory.group(at: ClusterFixture.address("phantom")) == nil, "\(node.settings.nodeName) keeps the phantom")
                #expect(directory.group(at: ClusterFixture.address("before")) != nil)
                #expect(directory.group(at: ClusterFixture.address("after")) != nil)
            }
            let bytes = try await harness.nodes.asyncMap { try await $0.applier.snapshotBytes().bytes }
            #expect(Set(bytes).count == 1)
        }
    }

    /// A record written by a newer deputyd (rules this build does not apply) stops every
    /// node; a failover that takes the record back lets them go on, without a restart.
    @Test func haltOnAPhantomIsLiftedByTheFailoverThatTakesItBack() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let context = Self.bossContext(harness)
            func add(_ name: String, via node: ClusterNode) async throws { try await Self.addGroup(name, via: node, context: context) }
            try await add("before", via: harness.nodes[0])
            try await harness.waitForConvergence()
            let newer = LoggedCommand(
                context: context, command: .addGroup(NewGroup(address: ClusterFixture.address("newer"), name: "newer", kind: .organization)),
                rules: LoggedCommand.currentRules + 1
            )
            let standby = try await Self.appendPhantom(newer, harness: harness)
            for node in harness.nodes {
                #expect(await ClusterFixture.waitUntil { await node.applier.haltReason != nil }, "\(node.settings.nodeName) did not stop at the newer record")
            }
            try await Self.failOver(to: standby, harness: harness)
            for node in harness.nodes {
                #expect(await ClusterFixture.waitUntil(seconds: 60) { await node.applier.haltReason == nil }, "\(node.settings.nodeName) stayed stopped")
            }
            #expect(await ClusterFixture.waitUntil(seconds: 30) { await harness.nodes[1].writer.isConnected })
            try await add("after", via: harness.nodes[1])
            try await harness.waitForConvergence()
            for node in harness.nodes {
                #expect(node.live.directory.group(at: ClusterFixture.address("after")) != nil)
                #expect(node.live.directory.group(at: ClusterFixture.address("newer")) == nil)
            }
        }
    }

    /// The boss acting at a fixed time, for the phantom tests' changes.
    static func bossContext(_ harness: ClusterHarness) -> CommandContext {
        CommandContext(actor: ClusterFixture.principal("boss", in: harness.initial), time: ClusterFixture.start.addingTimeInterval(30_000))
    }

    /// Adds the organisation group `name` through `node`, and expects the change made.
    static func addGroup(_ name: String, via node: ClusterNode, context: CommandContext) async throws {
        let result = try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
        #expect((try? result.get()) != nil)
    }

    /// The standby dies; `record`, appended as a node would, waits for it, and an operator
    /// cancels the wait: the row is committed on the primary only. Returns the standby.
    static func appendPhantom(_ record: LoggedCommand, harness: ClusterHarness) async throws -> PostgresPair.Node {
        let standby = harness.pair.primary.other
        try await harness.pair.kill(standby)
        let body = try LoggedCommandCoder().encode(record)
        let phantomAppend = Task { try await Self.appendDirectly(body, settings: harness.pair.settings(node: "phantom-writer")) }
        // Required: without the append waiting there, nothing would cancel it, and the
        // wait for it below would last as long as the dead standby.
        try #require(try await ClusterFixture.waitUntil {
            try await harness.pair.sqlOnPrimary("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == "1"
        })
        try await harness.pair.sqlOnPrimary("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
        // The cancelled append returns its sequence as if nothing happened.
        #expect(try await phantomAppend.value.count == 1)
        return standby
    }

    /// The primary dies before any later commit could carry a phantom to the standby; the
    /// standby comes back, is promoted, and the old primary is rebuilt.
    static func failOver(to standby: PostgresPair.Node, harness: ClusterHarness) async throws {
        try await harness.pair.killPrimary()
        try await harness.pair.restart(standby)
        try await harness.pair.promote()
        try await harness.pair.rebuildOldPrimary()
    }

    /// `deputy_append` on a connection of its own, as a node's writer calls it.
    static func appendDirectly(_ body: [UInt8], settings: ClusterSettings) async throws -> [Int64] {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(settings.certificateAuthorities!)
        var primary: PostgresConnection?
        for endpoint in settings.endpoints {
            let configuration = PostgresConnection.Configuration(
                host: endpoint.host, port: endpoint.port, username: settings.user, password: settings.password, database: settings.database,
                tls: .require(try NIOSSLContext(configuration: tls))
            )
            // The standby may be down: only the primary matters here.
            guard let connection = try? await PostgresConnection.connect(configuration: configuration, id: 99, logger: ClusterFixture.logger) else { continue }
            var recovery = true
            for try await value in try await connection.query("SELECT pg_is_in_recovery()", logger: ClusterFixture.logger).decode(Bool.self) { recovery = value }
            if recovery { try await connection.close() } else { primary = connection }
        }
        guard let connection = primary else { throw Shell.Failure(description: "no primary") }
        defer { Task { try? await connection.close() } }
        let bodies = [ByteBuffer(bytes: body)]
        let ids = [UUID()]
        for try await sequences in try await connection.query("SELECT deputy_append(\(bodies), \(ids), \("phantom-writer"))", logger: ClusterFixture.logger).decode([Int64].self) {
            return sequences
        }
        return []
    }

    /// Both PostgreSQL servers stopped for a minute (`DEPUTY_CLUSTER_OUTAGE_SECONDS`): reads
    /// go on from memory and writes are refused in under 100 ms each, the whole time; the
    /// delegated-send audit is queued; a node restarted meanwhile serves its local state,
    /// stale. Once the servers are back, writes are accepted again, the queued audit records
    /// are written, and every node converges.
    @Test func writesAreRefusedFastWhileTheDatabaseIsStopped() async throws {
        try await ClusterHarness.run(nodes: 2) { harness in
            let outage = Duration.seconds(Int(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_OUTAGE_SECONDS"] ?? "") ?? 60)
            let boss = ClusterFixture.principal("boss", in: harness.initial)
            let context = CommandContext(actor: boss, time: ClusterFixture.start.addingTimeInterval(40_000))
            func add(_ name: String, via node: ClusterNode) async throws -> Result<CommandResult, DirectoryError> {
                try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address(name), name: name, kind: .organization)), context: context)
            }
            _ = try await add("before", via: harness.nodes[0])
            // admin0 may send as boss: each send is a delegated-send audit record.
            _ = try await harness.nodes[0].commit(
                .delegate(NewDelegation(mailbox: ClusterFixture.address("boss"), delegate: ClusterFixture.address("admin0"), permissions: PermissionSet([.sendAs]))),
                context: context
            ).get()
            try await harness.waitForConvergence()
            let decision = harness.nodes[0].live.directory.sendAs(login: "admin0@acme.test", address: "boss@acme.test", at: context.time)
            guard case .delegation(_, let grantID, _) = decision.reason else {
                Issue.record("admin0 holds no delegation of boss: \(decision)")
                return
            }
            let grant = DelegatedSendGrant(delegation: grantID, owner: ClusterFixture.address("boss"), viaGroup: nil)
            let recorder = CommittingDelegatedSendRecorder(committer: ClusterCommitter(node: harness.nodes[0], audit: nil), logger: ClusterFixture.logger)

            try await harness.pair.stopAll()
            for node in harness.nodes {
                #expect(await ClusterFixture.waitUntil(seconds: 10) { await !node.writer.isConnected }, "\(node.settings.nodeName) still thinks it can write")
            }
            // The second node is restarted during the outage: from its local state, stale.
            let restarted = try await harness.restartNode(1)
            #expect(restarted.startedFromLocalState)
            #expect(await !restarted.applier.isFollowing)
            #expect(restarted.live.directory.group(at: ClusterFixture.address("before")) != nil)

            var slowest = Duration.zero
            var refused = 0
            var sends = 0
            let ends = ContinuousClock.now + outage
            while ContinuousClock.now < ends {
                for node in harness.nodes {
                    let started = ContinuousClock.now
                    do {
                        _ = try await add("during-\(refused)", via: node)
                        Issue.record("a write was acknowledged while the database was stopped")
                    } catch let error as ClusterError {
                        #expect(error.kind == .unavailable, "\(error)")
                        // What a client reads after "ERR unavailable the change was not
                        // made:": no driver's error text, hosts or ports (they are logged).
                        #expect(error.description == "writes are refused while the database is unreachable; reads go on", "\(error)")
                    }
                    slowest = max(slowest, ContinuousClock.now - started)
                    refused += 1
                    // Reads answer from memory meanwhile.
                    #expect(node.live.directory.group(at: ClusterFixture.address("before")) != nil)
                }
                let event = DelegatedSendEvent(
                    login: ClusterFixture.address("admin0"), sender: ClusterFixture.address("boss"), grant: grant,
                    details: DelegatedSendDetails(permission: .sendAs, queueID: "Q\(sends)", messageID: nil, path: "policy")
                )
                await recorder.record(event, at: context.time.addingTimeInterval(Double(sends)))
                sends += 1
                // A write attempt or two every quarter of a second, for the whole outage.
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(slowest < .milliseconds(100), "the slowest refusal took \(slowest)")
            #expect(await recorder.queued == sends)

            try await harness.pair.startAll()
            for node in harness.nodes {
                let back = await ClusterFixture.waitUntil(seconds: 30) {
                    let writing = await node.writer.isConnected
                    let following = await node.applier.isFollowing
                    return writing && following
                }
                #expect(back)
            }
            #expect((try? await add("after", via: harness.nodes[1]).get()) != nil)
            #expect(await recorder.flush())
            try await harness.waitForConvergence()
            for node in harness.nodes {
                #expect(node.live.directory.group(at: ClusterFixture.address("after")) != nil)
                #expect(node.live.directory.group(at: ClusterFixture.address("during-0")) == nil)
                let audited = node.live.directory.auditLog.all.filter { $0.action == "delegated-send" }
                #expect(audited.map(\.time) == (0..<sends).map { context.time.addingTimeInterval(Double($0)) }, "\(node.settings.nodeName)")
            }
            print("cluster outage: PostgreSQL stopped for \(outage); \(refused) writes refused, the slowest in \(String(format: "%.2f", slowest.seconds * 1000)) ms; reads answered throughout; \(sends) delegated sends queued and written after; a node restarted meanwhile served its local state")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
