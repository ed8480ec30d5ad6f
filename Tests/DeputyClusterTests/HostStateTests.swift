@testable import DeputyCluster
import DeputyCore
import PostgresNIO
import Testing

/// What each configured PostgreSQL server answers when a node looks for the primary: the
/// primary, the standby, and a server that can't be reached, with why.
@Suite(.serialized)
struct HostStateTests {
    @Test func everyConfiguredServerIsReportedWithItsAnswer() async throws {
        try await ClusterHarness.run(nodes: 1) { harness in
            let pair = harness.pair
            var settings = pair.settings(node: "probe")
            // A port nothing listens on: a server configured but down, or firewalled.
            let closed = ClusterSettings.Endpoint(host: "localhost", port: try PostgresPair.freePort())
            settings.endpoints.append(closed)
            let primaryPort = pair.ports[pair.primary]!

            func check(_ hosts: [ClusterHostState]) {
                #expect(hosts.map(\.endpoint) == settings.endpoints, "in the order of cluster-hosts")
                for host in hosts.prefix(2) {
                    #expect(host.role == (host.endpoint.port == primaryPort ? .primary : .standby), "\(host)")
                }
                guard case .unreachable(let reason)? = hosts.last?.role else {
                    Issue.record("the closed port is reported as \(String(describing: hosts.last))")
                    return
                }
                #expect(!reason.isEmpty && hosts.last!.description == "\(closed): unreachable (\(reason))")
            }
            let connector = try PrimaryConnector(settings: settings, logger: ClusterFixture.logger)
            let (connection, hosts) = try await connector.findPrimary(purpose: .bootstrap)
            try? await connection.close()
            check(hosts)
            // deputyd cluster status prints the same answers.
            check(try await ClusterStatusReport.read(settings: settings, logger: ClusterFixture.logger).hosts)
        }
    }
}

/// A running node notices a standby lost, and back, within its host check's interval,
/// though its own connections to the primary never break.
@Suite(.serialized)
struct HostCheckTests {
    @Test func aRunningNodeNoticesAStandbyLostAndBack() async throws {
        let harness = try await ClusterHarness.start(nodes: 1) { $0.hostCheckInterval = .milliseconds(200) }
        do {
            let node = harness.nodes[0]
            let standby = harness.pair.primary.other
            let endpoint = ClusterSettings.Endpoint(host: "localhost", port: harness.pair.ports[standby]!)
            #expect(node.unreachableHosts.isEmpty)
            try await harness.pair.kill(standby)
            #expect(await ClusterFixture.waitUntil(seconds: 10) { node.unreachableHosts == [endpoint] }, "the lost standby was not noticed")
            try await harness.pair.restart(standby)
            #expect(await ClusterFixture.waitUntil(seconds: 30) { node.unreachableHosts.isEmpty }, "the standby back was not noticed")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

/// A standby promoted while the old primary still runs: two primaries. A running node's
/// host check finds them, drops its write connection and refuses writes at once, with the
/// reason, instead of letting them wait on the old primary for a standby that left it; once
/// the old primary is fenced, writes go to the new one.
@Suite(.serialized)
struct SeveralPrimariesTests {
    @Test func writesAreRefusedWhileTwoServersArePrimariesAndResumeOnceOneIsFenced() async throws {
        let harness = try await ClusterHarness.start(nodes: 1) { $0.hostCheckInterval = .milliseconds(200) }
        do {
            let node = harness.nodes[0]
            let context = FailoverTests.bossContext(harness)
            try await FailoverTests.addGroup("before-split", via: node, context: context)
            let connected = await node.writer.isConnected
            #expect(connected)

            try await harness.pair.promoteWithoutFencing()
            #expect(await ClusterFixture.waitUntil(seconds: 10) { node.primaryHosts.count == 2 }, "the second primary was not noticed")
            // Dropped before the look is reported: no write after this waits on the old primary.
            let stillConnected = await node.writer.isConnected
            #expect(!stillConnected)
            do {
                _ = try await node.commit(.addGroup(NewGroup(address: ClusterFixture.address("during-split"), name: "during", kind: .organization)), context: context)
                Issue.record("a write was taken while two servers were primaries")
            } catch let error as ClusterError {
                #expect(error.kind == .unavailable)
                #expect(error.description == "writes are refused while more than one PostgreSQL server answers as the primary, until one is fenced; reads go on", "\(error)")
            }
            #expect(node.live.directory.group(at: ClusterFixture.address("before-split")) != nil, "reads go on")

            // Fencing: the old primary is stopped and rebuilt as the new one's standby.
            try await harness.pair.rebuildOldPrimary()
            let resumed = await ClusterFixture.waitUntil(seconds: 30) {
                guard node.primaryHosts.count == 1 else { return false }
                return await node.writer.isConnected
            }
            #expect(resumed, "writes did not resume on the new primary")
            try await FailoverTests.addGroup("after-split", via: node, context: context)
            #expect(node.live.directory.group(at: ClusterFixture.address("after-split")) != nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

/// Each change in the number of primaries is said once.
struct SeveralPrimariesChangeTests {
    @Test func onlyChangesAreReported() {
        let db1 = ClusterSettings.Endpoint(host: "db1.example.org", port: 5432)
        let db2 = ClusterSettings.Endpoint(host: "db2.example.org", port: 5432)
        func look(_ primaries: [ClusterSettings.Endpoint]) -> [ClusterHostState] {
            [db1, db2].map { ClusterHostState(endpoint: $0, role: primaries.contains($0) ? .primary : .standby) }
        }
        let primaries = SeveralPrimaries()
        #expect(primaries.update(look([db1])) == nil, "one primary: nothing to say")
        #expect(primaries.update(look([db1, db2])) == .appeared([db1, db2]))
        #expect(primaries.update(look([db1, db2])) == nil, "still the same two: said once")
        #expect(primaries.current == [db1, db2])
        #expect(primaries.update(look([db2])) == .resolved)
        #expect(primaries.update(look([])) == nil, "none reachable is the unreachable report's to say")
    }
}

/// A node speaks when the set of servers it can't reach changes, not at every connection.
struct UnreachableHostsTests {
    @Test func onlyChangesAreReported() {
        let db1 = ClusterSettings.Endpoint(host: "db1.example.org", port: 5432)
        let db2 = ClusterSettings.Endpoint(host: "db2.example.org", port: 5432)
        let db3 = ClusterSettings.Endpoint(host: "db3.example.org", port: 5432)
        func look(_ down: [ClusterSettings.Endpoint]) -> [ClusterHostState] {
            [db1, db2, db3].map { ClusterHostState(endpoint: $0, role: down.contains($0) ? .unreachable("connection refused") : $0 == db1 ? .primary : .standby) }
        }
        let hosts = UnreachableHosts()
        #expect(hosts.update(look([])) == nil, "all reachable from the start: nothing to say")
        #expect(hosts.update(look([db2])) == .unreachable([ClusterHostState(endpoint: db2, role: .unreachable("connection refused"))]))
        #expect(hosts.update(look([db2])) == nil, "still the same server: said once")
        #expect(hosts.update(look([db2, db3])).map { if case .unreachable(let down) = $0 { down.map(\.endpoint) } else { [] } } == [db2, db3])
        #expect(hosts.update(look([])) == .allReachable)
        #expect(hosts.update(look([])) == nil)
    }
}
