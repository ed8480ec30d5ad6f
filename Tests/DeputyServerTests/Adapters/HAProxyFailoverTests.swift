import Foundation
import Glibc
import Synchronization
import Testing

/// The HAProxy configuration of docs/cluster.md ("A local proxy in front of several nodes"),
/// taken from the document itself and run as written: three node hosts, each a real
/// `deputyd` with its socketmap listener on loopback and HAProxy publishing it over TLS with
/// client certificates, and one mail host whose HAProxy sends Postfix's socketmap lookups to
/// the first live node. Postfix's own client, `postmap`, asks throughout.
///
/// Only addresses and file locations change: every host is 127.0.0.1 here, so each gets
/// ports of its own, and the certificates live in the test's directory. The node
/// certificate names `dir1.example.org` to `dir3.example.org`, as the document's
/// `verifyhost` expects.
@Suite("HAProxy in front of several nodes, as docs/cluster.md configures it", .serialized, .timeLimit(.minutes(5)))
struct HAProxyFailoverTests {
    static var daemon: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
    }

    static let key = "admin@example.test"
    static let answer = "admin@example.test"

    @Test("a node host that dies costs no lookup on a kept connection; a deputyd that dies alone costs at most the first")
    func documentedProxies() async throws {
        let haproxy = try Self.haproxyPath()
        let root = "/tmp/deputy-haproxy-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var pids: [pid_t] = []
        var lookups: [FreshLookups] = []
        let postfix = try PostfixInstance.configuration()
        defer {
            for running in lookups { running.run?.cancel() }
            for pid in pids { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: postfix.directory)
        }
        try await Self.makeCertificates(in: root)
        let (nodeConfiguration, mailConfiguration) = try Self.documentedConfigurations()

        // Three node hosts: deputyd (each its own data directory: every new one holds the
        // same organisation and super administrator) and its TLS proxy.
        var deputyds: [pid_t] = []
        var proxies: [pid_t] = []
        let ports = try Self.distinctPorts(7)
        let frontends = Array(ports[3..<6])
        for node in 1...3 {
            let socketmap = ports[node - 1]
            let frontend = frontends[node - 1]
            let log = "\(root)/deputyd\(node).log"
            let pid = try ProcessRunner.spawnDetached(Self.daemon, [
                "serve", "--data", "\(root)/data\(node)", "--listen", "127.0.0.1:0", "--socketmap", "127.0.0.1:\(socketmap)",
            ], outputFile: log)
            pids.append(pid)
            deputyds.append(pid)
            try await Self.waitFor("deputyd \(node)'s socketmap listener") { Self.read(log).contains("listen.kind=socketmap") }
            let configuration = try Self.render(nodeConfiguration, root: root, [
                ("bind :7650", "bind 127.0.0.1:\(frontend)"),
                ("127.0.0.1:7640", "127.0.0.1:\(socketmap)"),
            ])
            proxies.append(try Self.startHAProxy(haproxy, configuration, name: "node\(node)", root: root))
            pids.append(proxies.last!)
        }
        let mailPort = ports[6]
        let mail = try Self.render(mailConfiguration, root: root, [("bind 127.0.0.1:7640", "bind 127.0.0.1:\(mailPort)")] + (1...3).map {
            ("dir\($0).example.org:7650", "127.0.0.1:\(frontends[$0 - 1])")
        })
        pids.append(try Self.startHAProxy(haproxy, mail, name: "mail", root: root))
        let table = "socketmap:inet:127.0.0.1:\(mailPort):senders"
        try await Self.waitFor("a first answer through the proxies") {
            (try? await postfix.query(Self.key, table))?.stdout == Self.answer + "\n"
        }

        // 1. The first node host dies whole (deputyd and its proxy), while one postmap asks
        //    over one connection (a key every 10 ms, as Postfix keeps its connection) and
        //    fresh postmaps ask one key each.
        let streamed = Task { try await Self.streamLookups(count: 300, table: table, postfix: postfix) }
        let fresh = Self.freshLookups(table: table, postfix: postfix, after: 150)
        lookups.append(fresh)
        try await Self.waitFor("lookups under way") { fresh.succeeded >= 10 }
        // The proxy first: killed after its deputyd, it could accept Postfix's retry in between.
        kill(proxies[0], SIGKILL)
        kill(deputyds[0], SIGKILL)
        fresh.markKilled()
        let stream = try await streamed.value
        #expect(stream.status == 0, "postmap over one connection failed: \(stream.error)")
        #expect(stream.answers == 300, "\(stream.answers) of 300 lookups over one connection answered: \(stream.error)")
        // A postmap of its own per key does not retry (Postfix retries only on a connection
        // it kept): the one lookup in flight through the host as it died may fail, no other.
        let first = try await fresh.finish()
        #expect(first.failed <= 1, "lookups on fresh connections failed when a node host died: \(first.errors)")
        #expect(first.afterKill >= 150 && first.trailingSuccesses >= 150, "\(first.errors)")

        // 2. On the node host now serving, deputyd dies alone; its proxy lives on. The first
        //    connection it had already accepted may fail (Postfix defers that message with a
        //    4xx); from then on the proxy refuses, and the mail host's proxy goes to the third.
        let second = Self.freshLookups(table: table, postfix: postfix, after: 150)
        lookups.append(second)
        try await Self.waitFor("lookups under way") { second.succeeded >= 10 }
        kill(deputyds[1], SIGKILL)
        second.markKilled()
        let alone = try await second.finish()
        #expect(alone.failed <= 1, "\(alone.failed) lookups failed when a deputyd died alone: \(alone.errors)")
        #expect(alone.trailingSuccesses >= 150, "after the first failure every lookup must succeed: \(alone.errors)")
        try await Self.waitFor("the mail host's proxy to mark dir2 down") { Self.read("\(root)/mail.log").contains("deputy_nodes/dir2 is DOWN") }
    }

    // MARK: - The document's configuration

    /// The node host's and the mail host's configuration, from docs/cluster.md.
    static func documentedConfigurations() throws -> (node: String, mail: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/cluster.md"), encoding: .utf8)
        guard let start = document.range(of: "# on each node host"), let split = document.range(of: "# on each mail host", range: start.upperBound..<document.endIndex),
              let end = document.range(of: "```", range: split.upperBound..<document.endIndex)
        else { throw TestFailure("docs/cluster.md has no HAProxy example for the node and mail hosts") }
        func unindent(_ text: Substring) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map { $0.hasPrefix("  ") ? String($0.dropFirst(2)) : String($0) }.joined(separator: "\n")
        }
        return (unindent(document[start.lowerBound..<split.lowerBound]), unindent(document[split.lowerBound..<end.lowerBound]))
    }

    /// `configuration` with this host's addresses and the test's certificate files; fails
    /// when the document no longer holds what is replaced.
    static func render(_ configuration: String, root: String, _ replacements: [(String, String)]) throws -> String {
        var text = configuration
        for (old, new) in replacements + [("/etc/haproxy/", root + "/")] {
            guard text.contains(old) else { throw TestFailure("the documented configuration no longer holds \(old):\n\(configuration)") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    // MARK: - Processes

    static func haproxyPath() throws -> String {
        for candidate in ["/usr/sbin/haproxy", "/usr/bin/haproxy"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestFailure("haproxy is not installed; this test runs Debian's: apt-get install haproxy")
    }

    /// Runs `configuration` in the foreground, its messages to `<name>.log`.
    static func startHAProxy(_ haproxy: String, _ configuration: String, name: String, root: String) throws -> pid_t {
        let file = "\(root)/\(name).cfg"
        try configuration.write(toFile: file, atomically: true, encoding: .utf8)
        return try ProcessRunner.spawnDetached(haproxy, ["-db", "-f", file], outputFile: "\(root)/\(name).log")
    }

    /// Two CAs (the nodes', the mail hosts'), a node certificate for dir1 to dir3, and a
    /// mail host's client certificate; HAProxy wants certificate and key in one file.
    static func makeCertificates(in root: String) async throws {
        let commands: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=nodes CA", "-keyout", "nodes-ca.key", "-out", "nodes-ca.pem"],
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=mail hosts CA", "-keyout", "mail-hosts-ca.key", "-out", "mail-hosts-ca.pem"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=dir1.example.org", "-keyout", "node.key", "-out", "node.csr"],
            ["x509", "-req", "-in", "node.csr", "-CA", "nodes-ca.pem", "-CAkey", "nodes-ca.key", "-CAcreateserial", "-days", "2", "-extfile", "node.ext", "-out", "node.crt"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=mx1.example.org", "-keyout", "mail-host.key", "-out", "mail-host.csr"],
            ["x509", "-req", "-in", "mail-host.csr", "-CA", "mail-hosts-ca.pem", "-CAkey", "mail-hosts-ca.key", "-CAcreateserial", "-days", "2", "-out", "mail-host.crt"],
        ]
        try "subjectAltName=DNS:dir1.example.org,DNS:dir2.example.org,DNS:dir3.example.org\n".write(toFile: "\(root)/node.ext", atomically: true, encoding: .utf8)
        for arguments in commands {
            let result = try await ProcessRunner.run("/bin/sh", ["-c", "cd \"$0\" && exec openssl \"$@\"", root] + arguments)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result.error)") }
        }
        for name in ["node", "mail-host"] {
            let pem = try String(contentsOfFile: "\(root)/\(name).crt", encoding: .utf8) + String(contentsOfFile: "\(root)/\(name).key", encoding: .utf8)
            try pem.write(toFile: "\(root)/\(name).pem", atomically: true, encoding: .utf8)
        }
    }

    /// `count` free loopback ports, all different.
    static func distinctPorts(_ count: Int) throws -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let port = try DovecotLab.freePort()
            if !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Waits, at most 20 s, until `condition` holds.
    static func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw TestFailure("gave up waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: - Lookups

    /// One postmap, one connection, `count` keys at 10 ms intervals (Postfix keeps its
    /// socketmap connection and retries once on a closed one): how many it answered right.
    static func streamLookups(count: Int, table: String, postfix: PostfixInstance) async throws -> (status: Int32, answers: Int, error: String) {
        let script = "for i in $(seq \(count)); do echo \(key); sleep 0.01; done | timeout 60 postmap -c \"$0\" -q - \"$1\""
        let result = try await ProcessRunner.run("/bin/sh", ["-c", script, postfix.directory, table])
        let answers = result.output.split(separator: "\n").filter { $0 == "\(key)\t\(answer)" }.count
        return (result.status, answers, result.error)
    }

    /// A postmap per key, one after another, from before a kill until `after` answers in a
    /// row after it (or a minute has passed).
    static func freshLookups(table: String, postfix: PostfixInstance, after: Int) -> FreshLookups {
        let lookups = FreshLookups()
        lookups.run = Task {
            // Answers in a row since the kill; a minute at most.
            var streak = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while !lookups.killed || streak < after {
                try Task.checkCancellation()
                guard ContinuousClock.now < deadline else {
                    lookups.record(failure: "no \(after) answers in a row within a minute")
                    return
                }
                let output = try await postfix.query(key, table)
                let killed = lookups.killed
                let answered = output.status == 0 && output.stdout == answer + "\n"
                if answered { lookups.succeeded(1) } else { lookups.record(failure: "status \(output.status): \(output.stdout) \(output.stderr)") }
                if killed {
                    streak = answered ? streak + 1 : 0
                    lookups.counted(streak: streak)
                }
            }
        }
        return lookups
    }
}

/// The tally of ``HAProxyFailoverTests/freshLookups(table:postfix:after:)``.
final class FreshLookups: Sendable {
    private struct Tally {
        var killed = false
        var afterKill = 0
        var failed = 0
        var errors: [String] = []
        var streak = 0
        var succeeded = 0
        var run: Task<Void, any Error>?
    }

    private let tally = Mutex(Tally())

    var run: Task<Void, any Error>? {
        get { tally.withLock { $0.run } }
        set { tally.withLock { $0.run = newValue } }
    }

    var killed: Bool { tally.withLock { $0.killed } }
    var afterKill: Int { tally.withLock { $0.afterKill } }
    var failed: Int { tally.withLock { $0.failed } }
    var errors: [String] { tally.withLock { $0.errors } }
    /// Successes in a row at the end.
    var trailingSuccesses: Int { tally.withLock { $0.streak } }
    /// Lookups answered right, before and after the kill.
    var succeeded: Int { tally.withLock { $0.succeeded } }

    func markKilled() { tally.withLock { $0.killed = true } }

    func succeeded(_ count: Int) { tally.withLock { $0.succeeded += count } }

    func record(failure: String) {
        tally.withLock {
            $0.failed += 1
            $0.errors.append(failure)
        }
    }

    func counted(streak: Int) {
        tally.withLock {
            $0.afterKill += 1
            $0.streak = streak
        }
    }

    /// Waits for the lookups to end; self, for reading.
    func finish() async throws -> FreshLookups {
        try await run?.value
        return self
    }
}
