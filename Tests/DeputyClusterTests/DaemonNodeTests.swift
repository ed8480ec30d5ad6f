import DeputyCore
import DeputyProtocol
import DeputyServer
import Foundation
import Glibc
import Synchronization
import Testing

/// Real `deputyd` processes in cluster mode on one PostgreSQL pair: `deputyd init` and
/// `deputyd cluster init` make the cluster from a single-node data directory, three nodes
/// serve it, and nodes are killed with SIGKILL under write load and started again.
@Suite(.serialized)
struct DaemonNodeTests {
    /// The `deputyd` the nodes run: the one built beside the tests, or the one
    /// `DEPUTY_CLUSTER_NODE_DAEMON` names. The long run names a release build, as
    /// production runs: its nodes restart on a directory its writers grew for an hour, which
    /// a debug build decodes several times slower.
    static var daemon: String {
        if let chosen = ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_NODE_DAEMON"], !chosen.isEmpty { return chosen }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
    }

    /// Kills in this run; `DEPUTY_CLUSTER_NODE_KILLS` asks for a longer one (docs/cluster.md).
    static let kills = Int(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_NODE_KILLS"] ?? "") ?? 50
    /// Failovers of the PostgreSQL primary under the running nodes, after the kills;
    /// `DEPUTY_CLUSTER_NODE_FAILOVERS` asks for more.
    static let failovers = Int(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_NODE_FAILOVERS"] ?? "") ?? 2
    /// Changes each writer sends per second, at most (`DEPUTY_CLUSTER_NODE_WRITE_RATE`). A
    /// restarted node decodes the whole directory from its local state file, and a debug
    /// build does that several times slower than a release one: the rate keeps the
    /// directory of a 50-kill run at a few thousand entries, so that a restart measures the
    /// node, not the size the test grew it to.
    static let writeRate = Double(ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_NODE_WRITE_RATE"] ?? "") ?? 10

    /// The nodes of one test, and what it needs to start them again.
    final class Nodes: @unchecked Sendable {
        let root: String
        let pair: PostgresPair
        let adminPassword = "cluster-admin-secret"
        private(set) var pids: [Int: pid_t] = [:]
        let count: Int

        init(root: String, pair: PostgresPair, count: Int) {
            self.root = root
            self.pair = pair
            self.count = count
        }

        func socket(_ node: Int) -> String { root + "/n\(node).sock" }
        /// The node's socketmap listener, as Postfix would reach it.
        func socketmap(_ node: Int) -> String { root + "/n\(node).map" }

        var clusterFlags: [String] {
            pair.ports.values.sorted().flatMap { ["--cluster-hosts", "localhost:\($0)"] }
                + ["--cluster-password-file", root + "/pg-password", "--cluster-ca", pair.certificateAuthority]
        }

        func start(_ node: Int) throws {
            pids[node] = try Shell.spawn(DaemonNodeTests.daemon, [
                "serve", "--data", root + "/n\(node)", "--listen", "127.0.0.1:0", "--plain-socket", socket(node), "--socketmap", socketmap(node),
                "--metrics-listen", "127.0.0.1:0", "--cluster-node", "n\(node)",
            ] + clusterFlags, log: root + "/n\(node).log")
        }

        /// The node's data directory with a copy of the cluster's factor key, as
        /// docs/cluster.md has the operator make it before the node's first start.
        func prepareDataDirectory(_ node: Int, factorKey: String) throws {
            let data = root + "/n\(node)"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: factorKey, toPath: data + "/factor-key")
        }

        /// The metrics listener the node's latest start logged, waiting for it with a bound.
        func metricsAddress(_ node: Int, seconds: Double = 30) async throws -> ListenAddress {
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while ContinuousClock.now < deadline {
                let log = (try? String(contentsOfFile: root + "/n\(node).log", encoding: .utf8)) ?? ""
                if let line = log.split(separator: "\n").last(where: { $0.hasSuffix("serving metrics and health") }),
                   let field = line.split(separator: " ").first(where: { $0.hasPrefix("listen.address=") }),
                   let address = ListenAddress(hostAndPort: String(field.dropFirst("listen.address=".count))) {
                    return address
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw Shell.Failure(description: "node \(node) logged no metrics listener within \(seconds) s; see \(root)/n\(node).log")
        }

        /// The last `lines` lines of the node's log, for a failure's message: the logs go
        /// with the test's directory when it ends.
        func logTail(_ node: Int, lines: Int = 40) -> String {
            let log = (try? String(contentsOfFile: root + "/n\(node).log", encoding: .utf8)) ?? ""
            return "n\(node).log ends:\n" + log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        }

        /// Drops a node that ended on its own, once reaped.
        func forget(_ node: Int) {
            pids[node] = nil
        }

        func kill9(_ node: Int) async {
            guard let pid = pids.removeValue(forKey: node) else { return }
            kill(pid, SIGKILL)
            await Shell.reap(pid)
        }

        func stopAll() async {
            for (_, pid) in pids {
                kill(pid, SIGTERM)
                // Bounded: a node that does not stop is killed, so the test ends either way.
                _ = await Shell.reap(pid, within: 30)
            }
            pids = [:]
        }

        /// A bound admin session on `node`, once it answers (at most `seconds`).
        func session(_ node: Int, seconds: Double = 30) async throws -> LineSocket {
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while ContinuousClock.now < deadline {
                if let client = await LineSocket.connect(socket(node)), try await client.send("BIND admin@example.test \(adminPassword)").last == "OK bound as admin@example.test" {
                    return client
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw Shell.Failure(description: "node \(node) did not answer within \(seconds) s; see \(root)/n\(node).log")
        }
    }

    @Test func nodesKilledUnderWriteLoadLoseNothingAndRestartFast() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.daemon), "build deputyd first: \(Self.daemon)")
        let pair = try await PostgresPair.start()
        let root = "/tmp/deputy-nodes-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let nodes = Nodes(root: root, pair: pair, count: 3)
        do {
            try await Self.run(nodes)
        } catch {
            await nodes.stopAll()
            await pair.destroy()
            throw error
        }
        await nodes.stopAll()
        await pair.destroy()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func run(_ nodes: Nodes) async throws {
        let root = nodes.root
        // One node's data directory, made the single-node way, becomes the cluster.
        try "\(nodes.adminPassword)\n".write(toFile: root + "/admin-password", atomically: false, encoding: .utf8)
        try "\(PostgresPair.deputyPassword)\n".write(toFile: root + "/pg-password", atomically: false, encoding: .utf8)
        for file in ["admin-password", "pg-password"] { chmod(root + "/" + file, 0o600) }
        try await Shell.run(daemon, ["init", "--data", root + "/seed", "--org", "Example", "--domain", "example.test", "--superadmin", "admin@example.test", "--password-file", root + "/admin-password"])
        // What PostgreSQL refuses is said in its own words: a table in the way of the schema.
        _ = try await nodes.pair.sqlOnPrimary("CREATE TABLE deputy_log (seq bigint); GRANT ALL ON deputy_log TO deputy")
        let blocked = try await Shell.run(daemon, ["cluster", "init", "--data", root + "/seed", "--cluster-node", "init"] + nodes.clusterFlags, check: false)
        #expect(blocked.status != 0 && blocked.stderr.contains("\"deputy_log\" already exists"), "\(blocked.stderr)")
        _ = try await nodes.pair.sqlOnPrimary("DROP TABLE deputy_log")
        let created = try await Shell.run(daemon, ["cluster", "init", "--data", root + "/seed", "--cluster-node", "init"] + nodes.clusterFlags)
        #expect(created.stdout.contains("cluster created with Example"), "\(created.stdout)")
        let again = try await Shell.run(daemon, ["cluster", "init", "--data", root + "/seed", "--cluster-node", "init"] + nodes.clusterFlags, check: false)
        #expect(again.status != 0 && again.stderr.contains("already holds a Deputy cluster"), "\(again.stderr)")

        // Every node needs the cluster's factor key (second-factor secrets sealed on one node
        // are opened on all): a node without one refuses to start, and says what to copy.
        let factorKey = root + "/seed/factor-key"
        #expect(FileManager.default.fileExists(atPath: factorKey), "cluster init left no factor key in the seed")
        try nodes.start(1)
        let refusal = await Shell.reap(try #require(nodes.pids[1]), within: 30)
        let refusalLog = (try? String(contentsOfFile: root + "/n1.log", encoding: .utf8)) ?? ""
        #expect(refusal != nil && refusal != 0 && refusalLog.contains("factor-key") && refusalLog.contains("cluster init"), "\(refusalLog)")
        nodes.forget(1)
        for node in 1...nodes.count { try nodes.prepareDataDirectory(node, factorKey: factorKey) }

        // A node on a data directory that holds a single node's directory refuses to start,
        // and says why: it would start from the shared snapshot and never read it, so the
        // single node's later changes would be lost without a word.
        try FileManager.default.copyItem(atPath: root + "/seed/snapshot.json", toPath: root + "/n1/snapshot.json")
        try nodes.start(1)
        let singleRefusal = await Shell.reap(try #require(nodes.pids[1]), within: 30)
        let singleLog = (try? String(contentsOfFile: root + "/n1.log", encoding: .utf8)) ?? ""
        #expect(singleRefusal != nil && singleRefusal != 0 && singleLog.contains("holds a single node's directory (snapshot.json)"), "\(singleLog)")
        nodes.forget(1)
        try FileManager.default.removeItem(atPath: root + "/n1/snapshot.json")

        for node in 1...nodes.count { try nodes.start(node) }
        for node in 1...nodes.count { _ = try await nodes.session(node) }

        // From its first start, long before its first periodic save, a node's data
        // directory is marked as a node's: a single-node check or backup refuses it.
        for command in [["check", "--data", root + "/n2"], ["backup", "--data", root + "/n2", "--to", root + "/n2-backup.json"]] {
            let refused = try await Shell.run(daemon, command, check: false)
            #expect(refused.status != 0 && refused.stderr.contains("is a cluster node's data directory"), "\(command[0]): \(refused.stdout)\(refused.stderr)")
        }

        // Ready, and every metric docs/cluster.md lists is there from the start, so that an
        // alert on it never reads an absent series.
        for node in 1...nodes.count {
            let address = try await nodes.metricsAddress(node)
            let ready = try await HealthProbe.get("/readyz", from: address)
            #expect(ready.status == 200 && ready.body == "ready\n", "node \(node): \(ready.status) \(ready.body)")
            let metrics = try await HealthProbe.get("/metrics", from: address).body
            let series = Set(metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "{" }).first.map(String.init) })
            for name in Self.clusterSeries where !series.contains(name) {
                Issue.record("node \(node) has no \(name) in /metrics")
            }
            for name in Self.clusterDistributions where !series.contains(name + "_count") {
                Issue.record("node \(node) has no \(name) in /metrics")
            }
            let halted = metrics.split(separator: "\n").first { $0.hasPrefix("deputy_cluster_halted ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect(halted == 0, "node \(node): deputy_cluster_halted is \(String(describing: halted))")
            // Both servers answer it: the primary and its standby.
            let unreachable = metrics.split(separator: "\n").first { $0.hasPrefix("deputy_cluster_hosts_unreachable ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect(unreachable == 0, "node \(node): deputy_cluster_hosts_unreachable is \(String(describing: unreachable))")
        }

        // Mail lookups through socketmap, the whole time: none may fail.
        let lookups = SocketmapLookups(
            paths: (1...nodes.count).map(nodes.socketmap), request: "senders admin@example.test", expected: "OK admin@example.test"
        )
        lookups.start()
        defer { lookups.end() }

        // Writers add groups through whichever node answers, reconnecting when theirs dies;
        // an answer lost with a connection is not counted as acknowledged.
        let acknowledged = Acknowledged()
        let stop = StopFlag()
        // The writers end with the test, also one that fails partway.
        defer { stop.set() }
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<3 {
                    group.addTask {
                        var index = 0
                        var node = writer % nodes.count + 1
                        var due = ContinuousClock.now
                        while !stop.isSet {
                            guard let client = try? await nodes.session(node, seconds: 5) else {
                                node = node % nodes.count + 1
                                continue
                            }
                            while !stop.isSet {
                                // Pacing the load, not waiting for a condition: the next
                                // change is due at a time.
                                due += .seconds(1 / writeRate)
                                if ContinuousClock.now < due { try? await Task.sleep(until: due) } else { due = .now }
                                let name = "w\(writer)-\(index)"
                                index += 1
                                guard let reply = try? await client.send("ADD GROUP \(name)@example.test") else { break }
                                if reply.last?.hasPrefix("OK organization group \(name)@example.test added (revision ") == true {
                                    acknowledged.append(name)
                                } else if reply.last?.hasPrefix("ERR unavailable") == true {
                                    // Refused at once while PostgreSQL fails over: leave the
                                    // cores to the rest meanwhile.
                                    try? await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            node = node % nodes.count + 1
                        }
                    }
                }
            }
        }

        var restarts: [Double] = []
        var answering: [Double] = []
        var generator = SystemRandomNumberGenerator()
        for kill in 0..<kills {
            let before = acknowledged.count
            #expect(await ClusterFixture.waitUntil(seconds: 30) { acknowledged.count >= before + 5 }, "kill \(kill): writes stalled")
            let victim = Int.random(in: 1...nodes.count, using: &generator)
            let last = acknowledged.all.last
            await nodes.kill9(victim)
            let started = ContinuousClock.now
            try nodes.start(victim)
            // Ready: it answers, with what was acknowledged before it died.
            let client = try await nodes.session(victim)
            answering.append((ContinuousClock.now - started).seconds)
            if let last {
                #expect(await ClusterFixture.waitUntil(seconds: 10) { (try? await client.send("QUERY ENTRY \(last)@example.test"))?.last == "OK" })
            }
            restarts.append((ContinuousClock.now - started).seconds)
        }

        // The PostgreSQL primary killed under the running nodes: the synchronous standby is
        // promoted and the old primary rebuilt as its standby; writes resume on every node.
        var windows: [Double] = []
        var followed: [Double] = []
        for cycle in 0..<failovers {
            let before = acknowledged.count
            let killed = ContinuousClock.now
            try await nodes.pair.failover()
            #expect(await ClusterFixture.waitUntil(seconds: 60) { acknowledged.count >= before + 10 }, "failover \(cycle): writes did not resume")
            windows.append((ContinuousClock.now - killed).seconds)
            // Every node follows the new primary, not only those whose writes resumed: a
            // change made now is read through each with its revision (the wait is at most
            // 5 s), and how long each took is reported.
            let marker = "failover-\(cycle)"
            let reply = try await nodes.session(cycle % nodes.count + 1).send("ADD GROUP \(marker)@example.test")
            let revision = try #require(reply.last.flatMap { ReplyStatus.ok(text: String($0.dropFirst(3))).revision }, "\(reply)")
            for node in 1...nodes.count {
                let asked = ContinuousClock.now
                let answer = try await nodes.session(node).send("QUERY ENTRY \(marker)@example.test revision=\(revision)")
                let read = answer.last == "OK"
                #expect(read, "failover \(cycle): node \(node) at revision \(revision): \(answer)\n\(read ? "" : nodes.logTail(node))")
                followed.append((ContinuousClock.now - asked).seconds)
            }
        }
        stop.set()
        await writers.value
        await lookups.stop()
        #expect(lookups.failures.isEmpty, "\(lookups.failures.count) mail lookups failed: \(lookups.failures.prefix(5))")
        #expect(lookups.answered > 100, "only \(lookups.answered) mail lookups were answered")

        // Read-your-writes across nodes: a change made through one node, read at once
        // through the others with the revision its OK carried.
        for round in 0..<20 {
            let writer = round % nodes.count + 1
            let name = "ryw-\(round)"
            let reply = try await nodes.session(writer).send("ADD GROUP \(name)@example.test")
            let revision = try #require(reply.last.flatMap { ReplyStatus.ok(text: String($0.dropFirst(3))).revision }, "\(reply)")
            for reader in 1...nodes.count where reader != writer {
                let answer = try await nodes.session(reader).send("QUERY ENTRY \(name)@example.test revision=\(revision)")
                let read = answer.last == "OK" && answer.first?.contains("mail=\(name)@example.test") == true
                #expect(read, "node \(reader) at revision \(revision): \(answer)\n\(read ? "" : nodes.logTail(reader))")
            }
        }

        // A second factor enrolled through one node is checked on the others: every node
        // opens the secret with the same key.
        try await Self.secondFactorAcrossNodes(nodes)

        // Every acknowledged change is on every node.
        let names = acknowledged.all
        for node in 1...nodes.count {
            let client = try await nodes.session(node)
            // Asked 200 at a time, pipelined; a node may still be catching up, so one that
            // lacks a name is given a bounded while.
            var missing: [String] = []
            for start in stride(from: 0, to: names.count, by: 200) {
                let chunk = Array(names[start..<min(start + 200, names.count)])
                let statuses = try await client.statuses(of: chunk.map { "QUERY ENTRY \($0)@example.test" })
                for (name, status) in zip(chunk, statuses) where status != "OK" {
                    let caught = await ClusterFixture.waitUntil(seconds: 10) { (try? await client.send("QUERY ENTRY \(name)@example.test"))?.last == "OK" }
                    if !caught { missing.append(name) }
                }
            }
            #expect(missing.isEmpty, "node \(node) lacks \(missing.count) acknowledged groups, e.g. \(missing.prefix(5))")
        }
        let status = try await Shell.run(daemon, ["cluster", "status"] + nodes.clusterFlags)
        let head = status.stdout.split(separator: "\n").first.flatMap { $0.split(separator: " ").dropFirst().first }.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ";")) } ?? "?"
        let nodeLines = status.stdout.split(separator: "\n").filter { $0.hasPrefix("node n") }
        #expect(nodeLines.count == nodes.count, "\(status.stdout)")
        for line in nodeLines { #expect(line.contains("chain ok"), "\(line)") }
        // What each server answered, after the failovers: one primary, one standby.
        let hostLines = status.stdout.split(separator: "\n").filter { $0.hasPrefix("host localhost:") }
        #expect(hostLines.filter { $0.hasSuffix(": primary") }.count == 1 && hostLines.filter { $0.hasSuffix(": standby") }.count == 1, "\(status.stdout)")
        #expect(restarts.allSatisfy { $0 < 5 }, "restarts: \(restarts)")

        // The way back to one node: a backup of the log's head, restored into a data
        // directory of its own, passes a full check and holds every acknowledged change.
        let backup = try await Shell.run(daemon, ["cluster", "backup", "--to", root + "/backup.json"] + nodes.clusterFlags)
        #expect(backup.stdout.contains("backup of revision \(head) written to \(root)/backup.json: "), "\(backup.stdout)")
        // What it holds, counted as deputyd backup counts: at least every acknowledged group.
        let groupCount = backup.stdout.split(separator: " ").split(separator: "groups,").first?.last.flatMap { Int($0) }
        #expect((groupCount ?? 0) >= names.count, "\(backup.stdout)")
        try await Shell.run(daemon, ["restore", "--data", root + "/single", "--from", root + "/backup.json"])
        let check = try await Shell.run(daemon, ["check", "--data", root + "/single"], check: false)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // Every quoted string of the backup, read once: the addresses are among them.
        let restored = Set(try String(contentsOfFile: root + "/backup.json", encoding: .utf8).split(separator: "\"").map(String.init))
        let absent = names.filter { !restored.contains("\($0)@example.test") }
        #expect(absent.isEmpty, "the backup lacks \(absent.count) acknowledged groups")
        let sorted = restarts.sorted()
        let firstAnswers = answering.sorted()
        print("cluster nodes: \(kills) kill -9 of a node and \(failovers) failovers of the primary under 3 writers (at most \(Int(writeRate)) changes/s each), \(names.count) acknowledged (0 lost), head \(head); restart to first answer: median \(String(format: "%.2f", firstAnswers[firstAnswers.count / 2])) s, max \(String(format: "%.2f", firstAnswers.last ?? 0)) s; to an answer holding every acknowledged change: median \(String(format: "%.2f", sorted[sorted.count / 2])) s, max \(String(format: "%.2f", sorted.last ?? 0)) s; failover to 10 more acknowledged: \(windows.map { String(format: "%.2f s", $0) }.joined(separator: ", ")), then every node read a new change within \(String(format: "%.2f", followed.max() ?? 0)) s; \(lookups.answered) socketmap lookups answered, \(lookups.retried) retried on the next node, 0 failed, slowest \(String(format: "%.1f", lookups.slowest.seconds * 1000)) ms")
    }
}

extension DaemonNodeTests {
    /// The series docs/cluster.md lists under "Metrics", as /metrics names them.
    static let clusterSeries = [
        "deputy_cluster_applied_sequence", "deputy_cluster_head_sequence", "deputy_cluster_lag_seconds", "deputy_cluster_connected",
        "deputy_cluster_stale", "deputy_cluster_rebootstraps_total", "deputy_cluster_halted", "deputy_cluster_wakeups_skipped_total",
        "deputy_cluster_writes_refused_total", "deputy_cluster_writes_indeterminate_total", "deputy_cluster_snapshots_uploaded_total",
        "deputy_audit_queued_records", "deputy_audit_dropped_records_total", "deputy_cluster_hosts_unreachable",
        "deputy_cluster_hosts_primary", "deputy_cluster_unknown_resolved_total",
    ]
    /// The distributions it lists, which /metrics shows with a `_count` among their lines.
    static let clusterDistributions = [
        "deputy_cluster_apply_lag_seconds", "deputy_cluster_append_seconds", "deputy_cluster_batch_records", "deputy_cluster_catchup_records",
    ]

    /// A user enrols a second factor through node 1 and confirms it there; node 2 then
    /// accepts the next code, and refuses a code that does not match.
    static func secondFactorAcrossNodes(_ nodes: Nodes) async throws {
        let password = "second-factor-secret"
        let added = try await nodes.session(1).send("ADD USER mfa@example.test name=\"Mfa\" password=\"\(password)\"")
        #expect(added.last?.hasPrefix("OK") == true, "\(added)")
        func bound(_ node: Int) async throws -> LineSocket {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let client = await LineSocket.connect(nodes.socket(node)), try await client.send("BIND mfa@example.test \(password)").last == "OK bound as mfa@example.test" {
                    return client
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw Shell.Failure(description: "mfa@example.test could not bind on node \(node)")
        }
        let first = try await bound(1)
        let enrolled = try await first.send("MFA ENROLL")
        let secretField = try #require(enrolled.first?.split(separator: " ").first { $0.hasPrefix("secret=") }, "\(enrolled)")
        let secret = try #require(Base32.decode(String(secretField.dropFirst("secret=".count))))
        let step = TOTP.step(at: Date())
        let confirmed = try await first.send("MFA CONFIRM \(TOTP.code(secret: secret, step: step))")
        #expect(confirmed.last?.hasPrefix("OK second factor confirmed for mfa@example.test") == true, "\(confirmed)")
        let second = try await bound(2)
        #expect(await ClusterFixture.waitUntil(seconds: 10) {
            (try? await second.send("MFA STATUS"))?.first?.contains("factor=confirmed") == true
        }, "node 2 never saw the confirmed factor")
        // A code no step near now gives.
        let near = Set((step - 3...step + 3).map { TOTP.code(secret: secret, step: $0) })
        let wrongCode = try #require(["000000", "111111", "222222", "333333", "444444", "555555", "666666", "777777"].first { !near.contains($0) })
        #expect(try await second.send("REAUTH \(password) \(wrongCode)").last == "ERR auth invalid credentials")
        let reauthenticated = try await second.send("REAUTH \(password) \(TOTP.code(secret: secret, step: step + 1))")
        #expect(reauthenticated.last?.hasPrefix("OK re-authenticated with the second factor") == true, "node 2: \(reauthenticated)")
    }
}

/// Names acknowledged by concurrent writers.
final class Acknowledged: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var all: [String] { names.withLock { $0 } }
    var count: Int { names.withLock { $0.count } }
}
