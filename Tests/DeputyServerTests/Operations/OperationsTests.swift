import DeputyServer
import Foundation
import Glibc
import NIOSSL
import Synchronization
import Testing

/// Running Deputy for real, against the real `deputyd`: the configuration as the daemon
/// resolves it, reloading on SIGHUP, metrics, health, backup under load and the audit file.
@Suite("Operations", .serialized)
struct OperationsTests {
    private static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-ops-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    /// The metrics listener's address, from the daemon's log, waiting with a bound.
    private static func metricsAddress(_ daemon: SecurityDaemon) async throws -> ListenAddress {
        for _ in 0..<3_000 {
            for line in daemon.logText.split(separator: "\n") where line.hasSuffix("serving metrics and health") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("listen.address=") }),
                   let address = ListenAddress(hostAndPort: String(field.dropFirst("listen.address=".count))) {
                    return address
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the daemon logged no metrics listener")
    }

    /// The first mail listener's port, from the daemon's log, waiting with a bound.
    private static func mailListenerPort(_ daemon: SecurityDaemon) async throws -> Int {
        for _ in 0..<3_000 {
            for line in daemon.logText.split(separator: "\n") where line.hasSuffix("mail listener ready") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("listen.address=") }),
                   let port = Int(field.split(separator: ":").last ?? "") {
                    return port
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the daemon logged no mail listener")
    }

    /// Waits, with a bound, until `text` has appeared `count` times in the daemon's log.
    private static func waitForLog(_ daemon: SecurityDaemon, _ text: String, count: Int = 1) async throws {
        for _ in 0..<3_000 {
            if daemon.logText.components(separatedBy: text).count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the log never said \"\(text)\" \(count) times:\n\(daemon.logText.suffix(2_000))")
    }

    @Test("--print-config: a flag beats DEPUTY_*, which beats the file; secrets are redacted; check-config points at the line")
    func configurationPrecedence() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = (directory as NSString).appendingPathComponent("deputyd.json")
        try """
        {
          "_comment": "a test configuration",
          "max-connections": 30,
          "idle-timeout": 40,
          "max-pending": 50,
          "initial-password": "file-secret-password"
        }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await ProcessRunner.run(
            SecurityDaemon.binary, ["--config", file, "--max-connections", "10", "--print-config"],
            environment: ["DEPUTY_MAX_CONNECTIONS": "20", "DEPUTY_IDLE_TIMEOUT": "25"]
        )
        #expect(run.status == 0, "\(run.error)")
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(printed["max-connections"] as? Int == 10)
        #expect(printed["idle-timeout"] as? Int == 25)
        #expect(printed["max-pending"] as? Int == 50)
        #expect(printed["max-line"] as? Int == 65_536)
        #expect(printed["initial-password"] as? String == "<redacted>")
        #expect(!run.output.contains("file-secret-password"))
        let sources = try #require(printed["_sources"] as? [String: String])
        #expect(sources["max-connections"] == "flag")
        #expect(sources["idle-timeout"] == "environment")
        #expect(sources["max-pending"] == "\(file):5")
        #expect(sources["max-line"] == "default")

        try "{\n  \"listen\": \"127.0.0.1:7636\",\n  \"idle-timeout\": -3\n}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let check = try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file])
        #expect(check.status == 1)
        #expect(check.error.contains("\(file):3: idle-timeout: expected a number of seconds above 0"), "\(check.error)")
        // The daemon refuses to start on it, with the same message.
        let serve = try await ProcessRunner.run(SecurityDaemon.binary, ["serve", "--config", file, "--data", directory + "/data"])
        #expect(serve.status != 0)
        #expect(serve.error.contains("\(file):3: idle-timeout"), "\(serve.error)")

        // TLS files that serve would refuse: a key of another pair, a client CA that is not there.
        let one = try ServerCertificate.generate(hostNames: ["localhost"])
        let other = try ServerCertificate.generate(hostNames: ["localhost"])
        let certificate = directory + "/cert.pem", key = directory + "/key.pem"
        try one.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try other.keyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        try #"{"cert": "\#(certificate)", "key": "\#(key)"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let mismatched = try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file])
        #expect(mismatched.status == 1, "\(mismatched.output)")
        #expect(mismatched.error.contains("cert/key/client-ca"), "\(mismatched.error)")
        // In words, not BoringSSL's identifier (failedToLoadPrivateKey).
        #expect(mismatched.error.contains("the key \(key) does not belong to the certificate \(certificate)"), "\(mismatched.error)")
        try one.keyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        #expect(try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file]).status == 0)
        try #"{"cert": "\#(certificate)", "key": "\#(key)", "client-ca": "/nonexistent/ca.pem"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let noCA = try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file])
        #expect(noCA.status == 1)
        #expect(noCA.error.contains("/nonexistent/ca.pem"), "\(noCA.error)")
        try #"{"client-ca": "/nonexistent/ca.pem"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file]).status == 1)
    }

    @Test("check-config reads a cluster node's PostgreSQL password file and CA as a start would, and names the file that is wrong")
    func checkConfigReadsTheClusterFiles() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let file = path("deputyd.json")
        try """
        {
          "cluster-hosts": ["db1.example.org", "db2.example.org"],
          "cluster-password-file": "\(path("pg-password"))",
          "cluster-ca": "\(path("pg-ca.crt"))",
          "cluster-node": "dir1"
        }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        func check() async throws -> ProcessRunner.Result { try await ProcessRunner.run(SecurityDaemon.binary, ["check-config", file]) }

        let noPassword = try await check()
        #expect(noPassword.status == 1 && noPassword.error.contains("cannot read the password file \(path("pg-password"))"), "\(noPassword.error)")
        try "secret\n".write(toFile: path("pg-password"), atomically: false, encoding: .utf8)
        chmod(path("pg-password"), 0o644)
        let open = try await check()
        #expect(open.status == 1 && open.error.contains("chmod 600 \(path("pg-password"))"), "\(open.error)")
        chmod(path("pg-password"), 0o600)

        let noCA = try await check()
        #expect(noCA.status == 1 && noCA.error.contains("cluster-ca \(path("pg-ca.crt")): no such file or directory"), "\(noCA.error)")
        try "not a certificate\n".write(toFile: path("pg-ca.crt"), atomically: false, encoding: .utf8)
        let notPEM = try await check()
        #expect(notPEM.status == 1 && notPEM.error.contains("cluster-ca \(path("pg-ca.crt")): no PEM certificate could be read from it"), "\(notPEM.error)")
        try FileManager.default.removeItem(atPath: path("pg-ca.crt"))
        let made = try await ProcessRunner.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ca.key"), "-out", path("pg-ca.crt"),
            "-days", "2", "-subj", "/CN=test CA",
        ])
        #expect(made.status == 0, "\(made.error)")
        let good = try await check()
        #expect(good.status == 0 && good.output.contains("\(file): ok"), "\(good.output)\(good.error)")
    }

    @Test("A metrics listener on a port of its own, as a configuration names it: the daemon starts and is ready")
    func fixedMetricsPort() async throws {
        // The health listener opens before the daemon checks its addresses; that check must
        // not find the daemon's own listener in the way (it did, with any port but 0).
        let port = try DovecotLab.freePort()
        let daemon = try await SecurityDaemon.start(["--metrics-listen", "127.0.0.1:\(port)"])
        let address = try await Self.metricsAddress(daemon)
        #expect(address == .tcp(host: "127.0.0.1", port: port))
        let ready = try await HealthProbe.get("/readyz", from: address)
        #expect(ready.status == 200, "\(ready.body)")
        #expect(await daemon.stop())
    }

    @Test("/metrics is Prometheus text with the expected series after a known workload; /livez, /readyz and deputyd health agree")
    func metricsAndHealth() async throws {
        let daemon = try await SecurityDaemon.start(["--metrics-listen", "127.0.0.1:0", "--tcp-table", "senders=127.0.0.1:0"])
        let address = try await Self.metricsAddress(daemon)
        // Postfix's tcp_table: one lookup found, one not.
        let tablePort = try await Self.mailListenerPort(daemon)
        let table = try RawSocket(port: tablePort)
        table.send("get admin@example.test\n")
        #expect(table.readLine()?.hasPrefix("200 ") == true)
        table.send("get nobody@example.test\n")
        #expect(table.readLine()?.hasPrefix("500 ") == true)
        let admin = try await daemon.adminClient()
        for _ in 0..<5 { #expect(try await admin.send("PING") == ["OK pong"]) }
        #expect(try await admin.send("ADD USER metered@example.test").last == "OK user metered@example.test added (revision 2)")
        let stranger = try await daemon.tlsClient()
        #expect(try await stranger.send("BIND metered@example.test wrong-password").last?.hasPrefix("ERR auth") == true)
        #expect(try await stranger.send("FROB").last?.hasPrefix("ERR") == true)

        let answer = try await HealthProbe.get("/metrics", from: address)
        #expect(answer.status == 200)
        let metrics = try PrometheusText(answer.body)
        #expect(metrics.value("deputy_requests_total", ["verb": "PING", "result": "ok"]) == 5)
        #expect(metrics.value("deputy_requests_total", ["verb": "BIND", "result": "ok"]) == 1)
        #expect(metrics.value("deputy_requests_total", ["verb": "BIND", "result": "auth"]) == 1)
        #expect(metrics.value("deputy_requests_total", ["verb": "ADD USER", "result": "ok"]) == 1)
        #expect(metrics.value("deputy_requests_total", ["verb": "invalid", "result": "unknown"]) == 1)
        #expect(metrics.value("deputy_request_duration_seconds_count", ["verb": "PING"]) == 5)
        #expect(metrics.value("deputy_request_duration_seconds_bucket", ["verb": "PING", "le": "+Inf"]) == 5)
        #expect(metrics.type(of: "deputy_request_duration_seconds") == "histogram")
        #expect(metrics.value("deputy_bind_failures_total", [:]) == 1)
        #expect(metrics.value("deputy_connections_open", [:]) == 2)
        #expect((metrics.value("deputy_journal_fsync_seconds_count", [:]) ?? 0) >= 1)
        #expect((metrics.value("deputy_snapshot_age_seconds", [:]) ?? -1) >= 0)
        #expect(metrics.value("deputy_store_healthy", [:]) == 1)
        #expect(metrics.value("deputy_adapter_lookups_total", ["adapter": "tcp_table", "result": "found"]) == 1)
        #expect(metrics.value("deputy_adapter_lookups_total", ["adapter": "tcp_table", "result": "notfound"]) == 1)
        let expiry = try #require(metrics.value("deputy_tls_certificate_expiry_timestamp_seconds", [:]))
        #expect(expiry > Date().timeIntervalSince1970 + 86_400 * 300)

        #expect(try await HealthProbe.get("/livez", from: address).status == 200)
        let ready = try await HealthProbe.get("/readyz", from: address)
        #expect(ready.status == 200 && ready.body == "ready\n")
        #expect(try await HealthProbe.get("/nothing", from: address).status == 404)
        guard case .tcp(let host, let port) = address else { throw TestFailure("not tcp") }
        let healthy = try await ProcessRunner.run(SecurityDaemon.binary, ["health", "--metrics-listen", "\(host):\(port)"])
        #expect(healthy.status == 0 && healthy.output == "ready\n", "\(healthy)")

        await admin.close()
        await stranger.close()
        #expect(await daemon.stop())
        let gone = try await ProcessRunner.run(SecurityDaemon.binary, ["health", "--metrics-listen", "\(host):\(port)"])
        #expect(gone.status == 1)
        #expect(gone.output.hasPrefix("unhealthy: no answer"), "\(gone.output)")
    }

    @Test("SIGHUP: new clients get the renewed certificate and new limits; an open connection keeps its own; a bad file or key changes nothing, the expiry metric included")
    func reloadCertificateAndLimits() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificatePath = (directory as NSString).appendingPathComponent("cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("key.pem")
        let configPath = (directory as NSString).appendingPathComponent("deputyd.json")
        let old = try ServerCertificate.generate(hostNames: ["localhost"])
        let renewed = try ServerCertificate.generate(hostNames: ["localhost"])
        let oldPEM = (directory as NSString).appendingPathComponent("old.pem")
        let renewedPEM = (directory as NSString).appendingPathComponent("renewed.pem")
        try old.certificatePEM.write(toFile: oldPEM, atomically: true, encoding: .utf8)
        try renewed.certificatePEM.write(toFile: renewedPEM, atomically: true, encoding: .utf8)
        func install(_ generated: (certificate: ServerCertificate, certificatePEM: String, keyPEM: String), lineLimit: Int) throws {
            try generated.certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
            try generated.keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
            try #"{"cert": "\#(certificatePath)", "key": "\#(keyPath)", "max-line-unauthenticated": \#(lineLimit)}"#
                .write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        try install(old, lineLimit: 8_192)
        let daemon = try await SecurityDaemon.start(["--config", configPath, "--metrics-listen", "127.0.0.1:0"])
        func client(trusting pem: String) async throws -> LineClient {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(pem)
            return try await LineClient.connect(port: daemon.tlsPort, tls: configuration, serverHostname: "localhost")
        }
        let established = try await client(trusting: oldPEM)
        #expect(try await established.send("PING") == ["OK pong"])
        let longLine = "HELP " + String(repeating: "x", count: 200)

        try install(renewed, lineLimit: 64)
        kill(daemon.pid, SIGHUP)
        try await Self.waitForLog(daemon, "configuration reloaded")

        // A client that trusts only the old certificate no longer gets through.
        await #expect(throws: (any Error).self) {
            let stale = try await client(trusting: oldPEM)
            _ = try await stale.send("PING")
        }
        // One that trusts only the renewed certificate does, with the new line limit.
        let fresh = try await client(trusting: renewedPEM)
        #expect(try await fresh.send("PING") == ["OK pong"])
        #expect(try await fresh.send(longLine) == ["ERR limit line longer than 64 bytes"])
        await fresh.close()
        // The established connection keeps its certificate and its limits.
        #expect(try await established.send("PING") == ["OK pong"])
        #expect(try await established.send(longLine).last?.hasPrefix("ERR limit") == false)
        #expect(try await established.send("PING") == ["OK pong"])
        await established.close()

        // A configuration that does not load leaves the running one in place.
        try "{\"max-line-unauthenticated\": 0}".write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try await Self.waitForLog(daemon, "reload failed; the running configuration is unchanged")
        let afterBadReload = try await client(trusting: renewedPEM)
        #expect(try await afterBadReload.send("PING") == ["OK pong"])
        #expect(try await afterBadReload.send(longLine) == ["ERR limit line longer than 64 bytes"])
        await afterBadReload.close()

        // A certificate that expires sooner, installed with a key of another pair (a renewal
        // that made a new key whose copy failed): refused, and the expiry metric still names
        // the certificate served.
        let sooner = try ServerCertificate.generate(hostNames: ["localhost"], days: 30)
        try install((sooner.certificate, sooner.certificatePEM, renewed.keyPEM), lineLimit: 64)
        kill(daemon.pid, SIGHUP)
        try await Self.waitForLog(daemon, "reload failed; the running configuration is unchanged", count: 2)
        let metrics = try PrometheusText(try await HealthProbe.get("/metrics", from: try await Self.metricsAddress(daemon)).body)
        let expiry = try #require(metrics.value("deputy_tls_certificate_expiry_timestamp_seconds", [:]))
        #expect(expiry > Date().timeIntervalSince1970 + 86_400 * 300, "the metric names the refused certificate")
        let afterBadKey = try await client(trusting: renewedPEM)
        #expect(try await afterBadKey.send("PING") == ["OK pong"])
        await afterBadKey.close()
        #expect(await daemon.stop())
    }

    @Test("SIGHUP while the daemon starts (logrotate, a reload from systemd) neither kills it nor is lost: it reloads once it serves")
    func hangupWhileStarting() async throws {
        // The health listener opens before the directory is recovered; the first start then
        // makes a certificate and hashes the super administrator's password, which takes
        // a few hundred milliseconds at the full cost.
        let daemon = try await SecurityDaemon.start(["--metrics-listen", "127.0.0.1:0"]) { pid, log in
            for _ in 0..<3_000 {
                if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("serving metrics and health") {
                    #expect(!text.contains("listening"), "the hang-up is meant to arrive before the daemon serves")
                    kill(pid, SIGHUP)
                    return
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            throw TestFailure("the daemon never opened its health listener")
        }
        try await Self.waitForLog(daemon, "configuration reloaded")
        let client = try await LineClient.connect(port: daemon.plainPort, tls: nil)
        #expect(try await client.send("PING") == ["OK pong"])
        await client.close()
        #expect(await daemon.stop())
    }

    @Test("SIGHUP with a new data directory in the file: the running one keeps serving its own certificate, and the change waits for a restart")
    func reloadWithNewDataDirectory() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = directory + "/data", next = directory + "/next"
        let configPath = directory + "/deputyd.json"
        try #"{"data": "\#(running)"}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = try await SecurityDaemon.start(["--config", configPath], dataDirectory: running, dataFlag: false)
        try FileManager.default.createDirectory(atPath: next, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try #"{"data": "\#(next)"}"#.write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try await Self.waitForLog(daemon, "configuration reloaded")
        #expect(daemon.logText.contains("take effect only on restart") && daemon.logText.contains("settings=data"), "\(daemon.logText.suffix(2_000))")
        // The certificate served is still the running data directory's; none was made in the new one.
        let client = try await daemon.tlsClient()
        #expect(try await client.send("PING") == ["OK pong"])
        await client.close()
        #expect(!FileManager.default.fileExists(atPath: next + "/tls-cert.pem"))
        #expect(await daemon.stop())
    }

    @Test("systemd hears READY=1 once the daemon listens, RELOADING=1 then READY=1 on SIGHUP, and STOPPING=1 on SIGTERM")
    func systemdNotifications() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = (directory as NSString).appendingPathComponent("notify.sock")
        let socket = try NotifySocket(address: .path(path))
        defer { socket.closeSocket() }
        let daemon = try await SecurityDaemon.start(environment: ["NOTIFY_SOCKET": path])
        #expect(String(decoding: try socket.receive(), as: UTF8.self) == "READY=1")
        kill(daemon.pid, SIGHUP)
        let reloading = String(decoding: try socket.receive(), as: UTF8.self)
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(reloading)")
        #expect(UInt64(reloading.split(separator: "=").last ?? "") != nil)
        #expect(String(decoding: try socket.receive(), as: UTF8.self) == "READY=1")
        let stopped = Task { await daemon.stop() }
        #expect(String(decoding: try socket.receive(), as: UTF8.self) == "STOPPING=1")
        #expect(await stopped.value)
    }

    @Test("Over the connection limit, a TLS client reads the refusal once its handshake is done, and an established one goes on")
    func tlsRefusalIsReadable() async throws {
        // The plaintext listener isn't used: the one TLS client fills the limit.
        let daemon = try await SecurityDaemon.start(["--max-connections", "1"])
        let first = try await daemon.tlsClient()
        #expect(try await first.send("PING") == ["OK pong"])
        let second = try await daemon.tlsClient()
        // The first line, where the greeting would be.
        #expect(second.greeting == "ERR limit too many connections")
        #expect(try await second.readLine() == nil)
        #expect(try await first.send("PING") == ["OK pong"])
        await second.close()
        await first.close()
        #expect(await daemon.stop())
    }

    @Test("Run as an ordinary user, as the systemd unit does, the daemon serves TLS, plaintext and Unix-socket clients")
    func unprivilegedUser() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = (directory as NSString).appendingPathComponent("data")
        let socketPath = (directory as NSString).appendingPathComponent("deputy.sock")
        let log = (directory as NSString).appendingPathComponent("deputyd.log")
        let arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--plain-listen", "127.0.0.1:0", "--plain-socket", socketPath]
        let pid: pid_t
        if getuid() == 0 {
            // Root may set socket options no one else may: drop to nobody, as the unit drops to deputy.
            guard chown(directory, 65_534, 65_534) == 0 else { throw TestFailure("chown \(directory)") }
            pid = try ProcessRunner.spawnDetached(
                "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", SecurityDaemon.binary] + arguments, outputFile: log
            )
        } else {
            pid = try ProcessRunner.spawnDetached(SecurityDaemon.binary, arguments, outputFile: log)
        }
        defer {
            kill(pid, SIGKILL)
        }
        var ports: [Bool: Int] = [:]
        for _ in 0..<3_000 where ports.count < 2 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.hasSuffix("listening") && line.contains("127.0.0.1:") {
                guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("listen.address=") }),
                      let port = Int(field.split(separator: ":").last ?? "") else { continue }
                ports[line.contains("listen.tls=true")] = port
            }
            if kill(pid, 0) != 0 { throw TestFailure("deputyd exited: \(text)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let tlsPort = try #require(ports[true])
        let plainPort = try #require(ports[false])
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file((data as NSString).appendingPathComponent("tls-cert.pem"))
        let tls = try await LineClient.connect(port: tlsPort, tls: configuration, serverHostname: "localhost")
        let plain = try await LineClient.connect(port: plainPort, tls: nil)
        let local = try await LineClient.connect(unixSocket: socketPath)
        for client in [tls, plain, local] {
            #expect(try await client.send("PING") == ["OK pong"])
            await client.close()
        }
        kill(pid, SIGTERM)
        await ProcessRunner.wait(pid)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!text.contains("Permission denied"), "\(text.suffix(1_000))")
    }

    @Test("--log-format json: every line the daemon writes, from start to stop, is one JSON object")
    func jsonLogs() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = (directory as NSString).appendingPathComponent("deputyd.log")
        let pid = try ProcessRunner.spawnDetached(SecurityDaemon.binary, [
            "serve", "--data", directory + "/data", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug",
        ], outputFile: log)
        var records: [[String: Any]] = []
        for _ in 0..<3_000 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            records = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            if records.contains(where: { $0["message"] as? String == "listening" }) { break }
            if kill(pid, 0) != 0 { throw TestFailure("deputyd exited: \(text)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let listening = try #require(records.first { $0["message"] as? String == "listening" })
        #expect(listening["level"] as? String == "notice")
        #expect((listening["listen.address"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(listening["listen.tls"] as? String == "true")
        kill(pid, SIGTERM)
        await ProcessRunner.wait(pid)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 3)
        for line in lines {
            let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(record?["time"] is String && record?["level"] is String && record?["label"] is String, "not a JSON record: \(line)")
        }
        #expect(lines.contains { $0.contains("\"message\":\"stopped\"") })
    }

    @Test("A backup taken under write load restores to a directory holding every change acknowledged before it began")
    func backupUnderLoad() async throws {
        // Frequent snapshots, so that the backup races the snapshot and journal rotation.
        let daemon = try await SecurityDaemon.start(["--snapshot-every", "25"])
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let acknowledged = Acknowledged()
        let writers = (0..<4).map { writer in
            Task {
                let admin = try await daemon.adminClient()
                var index = 0
                while !Task.isCancelled {
                    let address = "load-\(writer)-\(index)@example.test"
                    // With a password, as provisioning does: each write hashes it, which keeps
                    // the load to what a daemon sees, and the directory small enough for the
                    // backup's in-memory recovery to keep up with the snapshots.
                    if try await admin.send("ADD USER \(address) password=\"load password \(index)\"").last?.hasPrefix("OK user \(address) added (revision ") == true { acknowledged.add(address) }
                    index += 1
                }
                await admin.close()
            }
        }
        for _ in 0..<6_000 where acknowledged.count < 80 { try await Task.sleep(for: .milliseconds(5)) }
        let before = acknowledged.all
        let backup = (directory as NSString).appendingPathComponent("backup.json")
        let run = try await ProcessRunner.run(SecurityDaemon.binary, ["backup", "--data", daemon.data, "--to", backup])
        // The writers were still at work through the backup: more changes come after it.
        for _ in 0..<6_000 where acknowledged.count < before.count + 10 { try await Task.sleep(for: .milliseconds(5)) }
        for writer in writers { writer.cancel() }
        for writer in writers { _ = await writer.result }
        #expect(run.status == 0, "\(run.output) \(run.error)")
        #expect(before.count >= 80)
        #expect(acknowledged.count >= before.count + 10, "the writers went on through the backup")
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let restored = (directory as NSString).appendingPathComponent("restored")
        let restore = try await ProcessRunner.run(SecurityDaemon.binary, ["restore", "--from", backup, "--data", restored])
        #expect(restore.status == 0, "\(restore.error)")
        let check = try await ProcessRunner.run(SecurityDaemon.binary, ["check", "--data", restored])
        #expect(check.status == 0 && check.output.hasSuffix("ok\n"), "\(check.output)")
        // What recovery would start from: the restored snapshot, and a journal with nothing.
        #expect(check.output.contains("\nsnapshot: at sequence "), "\(check.output)")
        #expect(check.output.contains(" 0 records (0 after the snapshot); the directory at revision "), "\(check.output)")
        // Every address acknowledged before the backup began is in the restored directory.
        let copy = try await ProcessRunner.run(SecurityDaemon.binary, ["backup", "--data", restored, "--to", backup + ".again"])
        #expect(copy.status == 0)
        let text = try String(contentsOfFile: backup + ".again", encoding: .utf8)
        let missing = before.filter { !text.contains("\"\($0)\"") }
        #expect(missing.isEmpty, "missing after restore: \(missing.prefix(5))")
        // A restore refuses a data directory that already holds a directory.
        let again = try await ProcessRunner.run(SecurityDaemon.binary, ["restore", "--from", backup, "--data", restored])
        #expect(again.status != 0)
        #expect(await daemon.stop())
    }

    @Test("--audit-log appends every audit record as a JSON line, 0600")
    func auditLogFile() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = (directory as NSString).appendingPathComponent("audit.log")
        let daemon = try await SecurityDaemon.start(["--audit-log", path])
        let admin = try await daemon.adminClient()
        #expect(try await admin.send("ADD USER audited@example.test name=\"Line\\nBreak\"").last?.hasPrefix("ERR") == true)
        #expect(try await admin.send("ADD USER audited@example.test password=audit-pw-123").last?.hasPrefix("OK user audited@example.test added (revision ") == true)
        #expect(try await admin.send("GRANT admin audited@example.test").last?.hasPrefix("OK") == true)
        await admin.close()
        #expect(await daemon.stop(removingFiles: false))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let sequences = records.compactMap { $0["seq"] as? Int }
        #expect(sequences == Array(1...sequences.count), "every record once, in order: \(sequences)")
        #expect(records.contains { $0["action"] as? String == "add-user" && $0["target"] as? String == "audited@example.test" && $0["result"] as? String == "ok" })
        #expect(records.contains { $0["actor"] as? String == "admin@example.test" && $0["action"] as? String == "set-role" && $0["detail"] as? String == "role=admin" })
        #expect(!lines.joined().contains("audit-pw-123"))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        try? FileManager.default.removeItem(at: daemon.root)

        // A directory behind the file (a restore from an older backup, or here a new one):
        // its records are still appended, from its own sequence, and the fork is logged.
        let behind = try await SecurityDaemon.start(["--audit-log", path])
        let again = try await behind.adminClient()
        #expect(try await again.send("ADD USER after-restore@example.test").last == "OK user after-restore@example.test added (revision 2)")
        await again.close()
        #expect(behind.logText.contains("the audit log file is ahead of the directory"))
        #expect(await behind.stop())
        let last = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").last)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(record["target"] as? String == "after-restore@example.test")
        #expect(record["seq"] as? Int == 2)
    }
}

/// Addresses whose ADD USER was acknowledged, from several writers.
private final class Acknowledged: Sendable {
    private let addresses = Mutex<[String]>([])
    func add(_ address: String) { addresses.withLock { $0.append(address) } }
    var count: Int { addresses.withLock { $0.count } }
    var all: [String] { addresses.withLock { $0 } }
}
