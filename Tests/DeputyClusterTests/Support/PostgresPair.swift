import DeputyCluster
import Foundation
import Glibc

/// A PostgreSQL 15 primary with a synchronous streaming standby on loopback, for tests that
/// kill -9 the primary, promote the standby and rebuild the old primary as the new standby.
///
/// Nodes `a` and `b` live under a directory in /tmp of their own, with a test CA and a
/// server certificate for `localhost`; clients must use TLS (pg_hba has `hostssl` lines
/// only) and SCRAM passwords. As root, every server tool runs as the `postgres` user, since
/// PostgreSQL refuses to run as root. The primary always names the other node in
/// `synchronous_standby_names` (strict: with the standby gone, commits wait instead of being
/// acknowledged by one disk), and only the standby last seen streaming synchronously on the
/// primary's timeline is ever promoted: the manual form of Patroni's synchronous mode.
final class PostgresPair: @unchecked Sendable {
    enum Node: String, CaseIterable, Sendable {
        case a, b
        var other: Node { self == .a ? .b : .a }
    }

    static let bin = "/usr/lib/postgresql/15/bin"
    static let deputyPassword = "deputy-test-secret"
    private static let replicationPassword = "replication-test-secret"

    let root: String
    let ports: [Node: Int]
    private(set) var primary: Node = .a
    /// The standby verified as synchronous and caught up; the only one `promote` accepts.
    private var promotable: Node?
    private var killedPostmaster: [Node: Int32] = [:]

    var certificateAuthority: String { root + "/tls/ca.crt" }
    private var run: String { root + "/run" }
    private var passfile: String { root + "/pgpass" }
    private func data(_ node: Node) -> String { root + "/" + node.rawValue }
    private func port(_ node: Node) -> Int { ports[node]! }

    private init(root: String, ports: [Node: Int]) {
        self.root = root
        self.ports = ports
    }

    /// Creates and starts the pair: the primary, its roles and the `deputy` database, the
    /// standby from a base backup, synchronous.
    static func start() async throws -> PostgresPair {
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb") else {
            throw Shell.Failure(description: "PostgreSQL 15 is not installed; the cluster tests need Debian's postgresql-15: apt-get install -y postgresql-15")
        }
        let root = "/tmp/deputy-pg-\(UUID().uuidString.prefix(8))"
        let first = try freePort()
        var second = try freePort()
        while second == first { second = try freePort() }
        let pair = PostgresPair(root: root, ports: [.a: first, .b: second])
        do {
            try await pair.create()
        } catch {
            await pair.destroy()
            throw error
        }
        return pair
    }

    /// Cluster settings for a node named `name` that reaches both servers.
    func settings(node name: String) -> ClusterSettings {
        var settings = ClusterSettings(
            endpoints: Node.allCases.map { ClusterSettings.Endpoint(host: "localhost", port: port($0)) }, database: "deputy", user: "deputy",
            password: Self.deputyPassword, certificateAuthorities: certificateAuthority, nodeName: name
        )
        settings.pollInterval = .milliseconds(200)
        return settings
    }

    // MARK: - Creating

    private func create() async throws {
        let fileManager = FileManager.default
        for directory in [root, run, root + "/log", root + "/tls"] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try await startWatchdog()
        try "127.0.0.1:*:replication:replicator:\(Self.replicationPassword)\n127.0.0.1:*:*:replicator:\(Self.replicationPassword)\n"
            .write(toFile: passfile, atomically: false, encoding: .utf8)
        try await makeCertificates()
        try await own(root)
        try await Shell.run("/bin/chmod", ["0700", root])
        try await Shell.run("/bin/chmod", ["0600", passfile])
        try await Shell.run("/bin/chmod", ["0755", root + "/tls"])
        try await Shell.run("/bin/chmod", ["0600", root + "/tls/server.key"])

        try await tool("initdb", ["-D", data(.a), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        try await writeCommonConfiguration(.a)
        try await writeNodeConfiguration(.a, upstream: nil)
        try await startNode(.a)
        try await sql(.a, """
            CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '\(Self.replicationPassword)';
            GRANT EXECUTE ON function pg_catalog.pg_ls_dir(text, boolean, boolean) TO replicator;
            GRANT EXECUTE ON function pg_catalog.pg_stat_file(text, boolean) TO replicator;
            GRANT EXECUTE ON function pg_catalog.pg_read_binary_file(text) TO replicator;
            GRANT EXECUTE ON function pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO replicator;
            CREATE ROLE deputy WITH LOGIN PASSWORD '\(Self.deputyPassword)';
            ALTER ROLE deputy SET synchronous_commit = 'on';
            GRANT pg_monitor TO deputy;
            """)
        try await sql(.a, "CREATE DATABASE deputy OWNER deputy")
        try await baseBackup(from: .a, to: .b)
        try await startNode(.b)
        try await setSynchronous(on: .a, standby: .b)
        try await waitStreaming(primary: .a, standby: .b)
    }

    /// Stops the servers and removes `root` when the test process ends without
    /// ``destroy()`` (killed at a time limit, say), so that no PostgreSQL outlives it: a
    /// shell of its own, not this process's child, that looks for this process once a
    /// second and ends by itself once `root` is gone.
    private func startWatchdog() async throws {
        let runAs = Shell.isRoot ? "/usr/sbin/runuser -u postgres -- " : ""
        let watch = """
            while kill -0 \(getpid()) 2>/dev/null && [ -d "$0" ]; do sleep 1; done
            [ -d "$0" ] || exit 0
            for node in a b; do
                if [ -f "$0/$node/postmaster.pid" ]; then
                    kill -CONT "$(head -n 1 "$0/$node/postmaster.pid")" 2>/dev/null
                    (cd /tmp && \(runAs)"$1/pg_ctl" -D "$0/$node" -m immediate -w -t 30 stop)
                fi
            done
            rm -rf "$0"
            """
        // The outer shell starts the watchdog in the background and exits at once, so the
        // watchdog belongs to init, not to this process.
        try await Shell.run("/bin/sh", ["-c", "(/bin/sh -c '\(watch)' \"$0\" \"$1\" >/dev/null 2>&1 &)", root, Self.bin])
    }

    private func makeCertificates() async throws {
        let tls = root + "/tls"
        let openssl = "/usr/bin/openssl"
        try await Shell.run(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=deputy cluster test CA", "-keyout", tls + "/ca.key", "-out", tls + "/ca.crt"])
        try await Shell.run(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", tls + "/server.key", "-out", tls + "/server.csr"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n".write(toFile: tls + "/san.ext", atomically: false, encoding: .utf8)
        try await Shell.run(openssl, ["x509", "-req", "-in", tls + "/server.csr", "-CA", tls + "/ca.crt", "-CAkey", tls + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", tls + "/san.ext", "-out", tls + "/server.crt"])
        for name in ["server.csr", "san.ext", "ca.key", "ca.srl"] { try? FileManager.default.removeItem(atPath: tls + "/" + name) }
    }

    private func own(_ path: String) async throws {
        if Shell.isRoot { try await Shell.run("/bin/chown", ["-R", "postgres:postgres", path]) }
    }

    private func writeFile(_ path: String, _ text: String) async throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try await own(path)
    }

    private func writeCommonConfiguration(_ node: Node) async throws {
        try await writeFile(data(node) + "/postgresql.conf", """
            listen_addresses = 'localhost'
            unix_socket_directories = '\(run)'
            max_connections = 80
            shared_buffers = 32MB
            password_encryption = 'scram-sha-256'
            wal_level = replica
            wal_log_hints = on
            max_wal_senders = 4
            max_replication_slots = 4
            max_slot_wal_keep_size = 1GB
            max_wal_size = 256MB
            wal_keep_size = 256MB
            hot_standby = on
            wal_receiver_status_interval = 1s
            wal_receiver_timeout = 5s
            wal_sender_timeout = 5s
            wal_retrieve_retry_interval = 200ms
            fsync = on
            recovery_init_sync_method = syncfs
            synchronous_commit = on
            track_commit_timestamp = on
            ssl = on
            ssl_cert_file = '\(root)/tls/server.crt'
            ssl_key_file = '\(root)/tls/server.key'
            ssl_min_protocol_version = 'TLSv1.2'
            log_min_messages = warning
            include = 'node.conf'

            """)
        try await writeFile(data(node) + "/pg_hba.conf", """
            local   all          postgres                   peer map=admin
            hostssl replication  replicator  127.0.0.1/32   scram-sha-256
            hostssl postgres     replicator  127.0.0.1/32   scram-sha-256
            hostssl deputy       deputy      127.0.0.1/32   scram-sha-256
            hostssl deputy       deputy      ::1/128        scram-sha-256

            """)
        try await writeFile(data(node) + "/pg_ident.conf", "admin postgres postgres\nadmin root postgres\n")
    }

    /// The settings that differ per node; rewritten after every copy, since base backups
    /// and pg_rewind copy configuration files from the source.
    private func writeNodeConfiguration(_ node: Node, upstream: Node?) async throws {
        var lines = ["port = \(port(node))", "cluster_name = 'node_\(node.rawValue)'"]
        if let upstream {
            lines.append("primary_conninfo = 'host=127.0.0.1 port=\(port(upstream)) user=replicator passfile=\(passfile) application_name=node_\(node.rawValue) connect_timeout=2'")
            lines.append("primary_slot_name = 'node_\(node.rawValue)'")
            try await writeFile(data(node) + "/standby.signal", "")
        } else {
            try? FileManager.default.removeItem(atPath: data(node) + "/standby.signal")
        }
        try await writeFile(data(node) + "/node.conf", lines.joined(separator: "\n") + "\n")
    }

    // MARK: - Tools

    @discardableResult
    private func tool(_ name: String, _ arguments: [String], check: Bool = true) async throws -> Shell.Output {
        try await Shell.run(Self.bin + "/" + name, arguments, asPostgres: true, environment: ["PGPASSFILE": passfile], check: check)
    }

    /// Runs `text` as the superuser on `node` over its Unix socket; the bare output.
    @discardableResult
    func sql(_ node: Node, _ text: String, database: String = "postgres") async throws -> String {
        try await tool("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", run, "-p", "\(port(node))", "-U", "postgres", "-d", database, "-c", text]).trimmed
    }

    /// Runs `text` in the deputy database on the current primary.
    @discardableResult
    func sqlOnPrimary(_ text: String) async throws -> String {
        try await sql(primary, text, database: "deputy")
    }

    private func startNode(_ node: Node) async throws {
        try await tool("pg_ctl", ["-D", data(node), "-l", root + "/log/\(node.rawValue).log", "-w", "-t", "60", "start"])
    }

    private func baseBackup(from source: Node, to target: Node) async throws {
        try? FileManager.default.removeItem(atPath: data(target))
        try await ensureSlot(on: source, for: target)
        try await tool("pg_basebackup", ["-h", "127.0.0.1", "-p", "\(port(source))", "-U", "replicator", "-D", data(target), "-X", "stream", "-c", "fast", "--no-password", "--no-sync"])
        try await writeNodeConfiguration(target, upstream: source)
    }

    private func ensureSlot(on node: Node, for standby: Node) async throws {
        try await sql(node, "SELECT pg_create_physical_replication_slot('node_\(standby.rawValue)') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = 'node_\(standby.rawValue)')")
    }

    private func setSynchronous(on node: Node, standby: Node) async throws {
        try await sql(node, "ALTER SYSTEM SET synchronous_standby_names = 'node_\(standby.rawValue)'")
        try await sql(node, "SELECT pg_reload_conf()")
    }

    private func timeline(_ node: Node) async throws -> String {
        try await sql(node, "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)::text ELSE (('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int)::text END")
    }

    /// Waits (at most `seconds`) until `standby` streams synchronously on the primary's
    /// timeline and has flushed what the primary had when the wait began; then records it
    /// as the one standby that may be promoted.
    private func waitStreaming(primary: Node, standby: Node, seconds: Double = 60) async throws {
        let target = try await sql(primary, "SELECT pg_current_wal_lsn()")
        let line = try await timeline(primary)
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let state = (try? await sql(primary, "SELECT state || '/' || sync_state || '/' || (flush_lsn >= '\(target)')::text FROM pg_stat_replication WHERE application_name = 'node_\(standby.rawValue)'")) ?? ""
            let received = (try? await sql(standby, "SELECT received_tli FROM pg_stat_wal_receiver")) ?? ""
            if state == "streaming/sync/true", received == line {
                promotable = standby
                return
            }
            guard Date() < deadline else {
                throw Shell.Failure(description: "standby \(standby) is not streaming synchronously after \(seconds) s (state '\(state)', timeline '\(received)', want '\(line)')")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - Processes

    private func postmasterPID(_ node: Node) -> Int32? {
        guard let text = try? String(contentsOfFile: data(node) + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first
        else { return nil }
        return Int32(first)
    }

    /// Whether `pid` exists and is not a zombie (a killed postmaster may wait a while for
    /// its parent to reap it).
    private static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z"
    }

    private static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    func isRunning(_ node: Node) -> Bool {
        postmasterPID(node).map(Self.alive) ?? false
    }

    /// kill -9 of `node`'s postmaster and every backend. Each backend has a process group of
    /// its own, so a signal to the postmaster's group would not reach them.
    func kill(_ node: Node) async throws {
        guard let pid = postmasterPID(node), Self.alive(pid) else { throw Shell.Failure(description: "node \(node) is not running") }
        let children = Self.children(of: pid)
        Glibc.kill(pid, SIGKILL)
        for child in children { Glibc.kill(child, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        for process in [pid] + children {
            while Self.alive(process) {
                guard Date() < deadline else { throw Shell.Failure(description: "process \(process) of node \(node) outlived kill -9") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        killedPostmaster[node] = pid
    }

    /// SIGSTOP (or SIGCONT) to `node`'s postmaster and every backend.
    func signal(_ node: Node, _ signal: Int32) throws {
        guard let pid = postmasterPID(node) else { throw Shell.Failure(description: "node \(node) is not running") }
        for process in [pid] + Self.children(of: pid) { Glibc.kill(process, signal) }
    }

    /// Before a killed node starts again: a new postmaster refuses to start while the socket
    /// lock file names a process that still exists, and a killed postmaster stays a zombie
    /// until its parent reaps it. Waits a bounded time, then removes the stale files.
    private func clearKilled(_ node: Node) async throws {
        if let pid = killedPostmaster.removeValue(forKey: node) {
            let deadline = Date().addingTimeInterval(2)
            while FileManager.default.fileExists(atPath: "/proc/\(pid)"), Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            if FileManager.default.fileExists(atPath: "/proc/\(pid)") {
                for suffix in ["", ".lock"] { try? FileManager.default.removeItem(atPath: "\(run)/.s.PGSQL.\(port(node))\(suffix)") }
            }
        }
        try? FileManager.default.removeItem(atPath: data(node) + "/postmaster.pid")
    }

    /// Starts `node` again after ``kill(_:)``, as it was (primary or standby).
    func restart(_ node: Node) async throws {
        try await clearKilled(node)
        try await startNode(node)
    }

    // MARK: - Failover

    /// kill -9 of the primary; returns the node killed.
    @discardableResult
    func killPrimary() async throws -> Node {
        let node = primary
        try await kill(node)
        return node
    }

    /// Promotes the verified synchronous standby, once the old primary is not running;
    /// strict: the new primary names the old one as its synchronous standby, so writes wait
    /// until it is back.
    func promote() async throws {
        guard let standby = promotable, standby != primary else {
            throw Shell.Failure(description: "no verified synchronous standby: refusing to promote (acknowledged commits could be lost)")
        }
        guard !isRunning(standby.other) else { throw Shell.Failure(description: "node \(standby.other) still runs: refusing to promote (split brain)") }
        try await makePrimary(standby)
    }

    /// Promotes the standby while the primary still runs, the mistake a failover manager's
    /// fencing prevents: both then answer as primaries, and the old one's commits wait for
    /// a synchronous standby that no longer follows it. ``rebuildOldPrimary()`` fences it.
    func promoteWithoutFencing() async throws {
        try await makePrimary(primary.other)
    }

    /// Promotes `standby`, strict: it names the other server as its synchronous standby.
    private func makePrimary(_ standby: Node) async throws {
        promotable = nil
        try await tool("pg_ctl", ["-D", data(standby), "-w", "-t", "60", "promote"])
        try await writeNodeConfiguration(standby, upstream: nil)
        try await ensureSlot(on: standby, for: standby.other)
        try await setSynchronous(on: standby, standby: standby.other)
        primary = standby
    }

    /// Brings the old primary back as the new primary's synchronous standby: pg_rewind,
    /// or a fresh base backup when the rewind fails.
    func rebuildOldPrimary() async throws {
        let old = primary.other
        if isRunning(old) { try await tool("pg_ctl", ["-D", data(old), "-m", "fast", "-w", "-t", "60", "stop"]) }
        try await clearKilled(old)
        // A just-promoted primary's control file names the old timeline until its first
        // checkpoint; pg_rewind reading it could decide that no rewind is needed.
        try await sql(primary, "CHECKPOINT")
        let rewound = try await tool(
            "pg_rewind", ["--no-sync", "-D", data(old), "--source-server=host=127.0.0.1 port=\(port(primary)) user=replicator dbname=postgres passfile=\(passfile)"], check: false
        )
        if rewound.status == 0 {
            try await writeNodeConfiguration(old, upstream: primary)
            try await ensureSlot(on: primary, for: old)
        } else {
            try await baseBackup(from: primary, to: old)
        }
        try await startNode(old)
        try await waitStreaming(primary: primary, standby: old)
    }

    /// One full failover: kill -9 of the primary, promotion, rebuild.
    func failover() async throws {
        try await killPrimary()
        try await promote()
        try await rebuildOldPrimary()
    }

    /// Stops both servers (fast shutdown: connections are closed).
    func stopAll() async throws {
        for node in Node.allCases where isRunning(node) {
            try await tool("pg_ctl", ["-D", data(node), "-m", "fast", "-w", "-t", "60", "stop"])
        }
    }

    /// Starts both servers again after ``stopAll()`` and waits until the standby is
    /// synchronous.
    func startAll() async throws {
        for node in [primary, primary.other] where !isRunning(node) {
            try await clearKilled(node)
            try await startNode(node)
        }
        try await waitStreaming(primary: primary, standby: primary.other)
    }

    /// Stops everything and removes the directory.
    func destroy() async {
        for node in Node.allCases where isRunning(node) {
            // A paused server handles no signal until it runs again.
            try? signal(node, SIGCONT)
            _ = try? await tool("pg_ctl", ["-D", data(node), "-m", "immediate", "-w", "-t", "30", "stop"], check: false)
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Shell.Failure(description: "socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Shell.Failure(description: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
