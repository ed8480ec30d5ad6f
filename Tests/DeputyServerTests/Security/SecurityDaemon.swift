import Foundation
import Glibc
import NIOSSL

/// The real `deputyd` in a process of its own, for the attack suites: its memory can be
/// measured, its log read, and its files searched, as an operator would.
///
/// It listens for TLS and plaintext on ephemeral loopback ports (read back from its log),
/// logs at `debug` into `log`, and its super administrator is `admin@example.test` with
/// the password in `password`.
final class SecurityDaemon: Sendable {
    let root: URL
    let data: String
    let log: String
    let pid: pid_t
    let tlsPort: Int
    let plainPort: Int
    let password: String

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
    }

    private init(root: URL, data: String, log: String, pid: pid_t, tlsPort: Int, plainPort: Int, password: String) {
        self.root = root
        self.data = data
        self.log = log
        self.pid = pid
        self.tlsPort = tlsPort
        self.plainPort = plainPort
        self.password = password
    }

    /// Starts `deputyd serve` with `arguments` added to the listeners and the data directory,
    /// through `launcher` if given (a command that runs the rest of its arguments, such as
    /// `prlimit --nofile=48:48 --`). `password` is the super administrator's password when the
    /// arguments or environment set it; otherwise the daemon generates one into a file.
    /// `restarting` starts it on the data directory of an earlier daemon (which has stopped
    /// or crashed), logging to a new file. The data directory is `data` in a directory of
    /// its own, unless `dataDirectoryName` names it otherwise, or `dataDirectory` is the path of
    /// one made beforehand. Without `dataFlag`, the data directory is not passed as a flag
    /// (the arguments' configuration file names it). `whileStarting` is given the process
    /// and its log as soon as it is spawned, before its listeners are waited for.
    static func start(
        _ arguments: [String] = [], environment: [String: String] = [:], launcher: [String] = [], password: String? = nil,
        restarting earlier: SecurityDaemon? = nil, dataDirectoryName: String = "data", dataDirectory: String? = nil,
        dataFlag: Bool = true, whileStarting: (@Sendable (pid_t, _ log: String) async throws -> Void)? = nil
    ) async throws -> SecurityDaemon {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw TestFailure("build deputyd first: \(binary)") }
        Self.raiseDescriptorLimit()
        let root = earlier?.root ?? FileManager.default.temporaryDirectory.appendingPathComponent("deputy-security-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = earlier?.data ?? dataDirectory ?? root.appendingPathComponent(dataDirectoryName).path
        let log = root.appendingPathComponent("deputyd-\(UUID().uuidString.prefix(8)).log").path
        let command = launcher + [binary, "serve"] + (dataFlag ? ["--data", data] : []) + ["--listen", "127.0.0.1:0", "--plain-listen", "127.0.0.1:0", "--log-level", "debug"]
            + arguments
        let pid = try ProcessRunner.spawnDetached(command[0], Array(command.dropFirst()), outputFile: log, environment: environment)
        do {
            try await whileStarting?(pid, log)
            let (tls, plain) = try await waitForPorts(log: log, pid: pid)
            let chosen: String
            if let password { chosen = password } else { chosen = try await waitForPassword(data: data) }
            return SecurityDaemon(root: root, data: data, log: log, pid: pid, tlsPort: tls, plainPort: plain, password: chosen)
        } catch {
            kill(pid, SIGKILL)
            await ProcessRunner.wait(pid)
            throw error
        }
    }

    /// Stops the daemon with SIGTERM (a clean shutdown writes a last snapshot) and waits up
    /// to 30 s for it to exit, then kills it; returns whether it exited 0 in time, so a test
    /// can check that no client holds a shutdown open.
    @discardableResult
    func stop(removingFiles: Bool = true) async -> Bool {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        var exited = false
        for _ in 0..<3_000 {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        if !exited {
            kill(pid, SIGKILL)
            await ProcessRunner.wait(pid)
        }
        if removingFiles { try? FileManager.default.removeItem(at: root) }
        return exited && status == 0
    }

    /// Kills the daemon with SIGKILL, leaving its files as a crash would.
    func crash() async {
        kill(pid, SIGKILL)
        await ProcessRunner.wait(pid)
    }

    /// The daemon's resident memory, in bytes.
    var residentBytes: Int {
        get throws {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            else { throw TestFailure("no VmRSS in /proc/\(pid)/status") }
            return kilobytes * 1024
        }
    }

    /// Sends SIGHUP and waits, with a bound, for the log to say the configuration was reloaded.
    func reload() async throws {
        let before = logText.components(separatedBy: "configuration reloaded").count
        kill(pid, SIGHUP)
        for _ in 0..<3_000 {
            if logText.components(separatedBy: "configuration reloaded").count > before { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("deputyd did not log a reload within 30 s")
    }

    /// How many descriptors the daemon has open.
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// The log so far.
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// The PEM file of the daemon's generated certificate, for clients to trust.
    var certificateFile: String { (data as NSString).appendingPathComponent("tls-cert.pem") }

    /// A plaintext client bound as the super administrator.
    func adminClient() async throws -> LineClient {
        let client = try await LineClient.connect(port: plainPort, tls: nil)
        let reply = try await client.send("BIND admin@example.test \(password)")
        guard reply == ["OK bound as admin@example.test"] else { throw TestFailure("BIND as admin: \(reply)") }
        return client
    }

    /// A TLS client that trusts the daemon's certificate.
    func tlsClient() async throws -> LineClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(certificateFile)
        return try await LineClient.connect(port: tlsPort, tls: configuration, serverHostname: "localhost")
    }

    /// Both listeners' ports, from the `listening` lines of the log, waiting with a bound.
    private static func waitForPorts(log: String, pid: pid_t) async throws -> (tls: Int, plain: Int) {
        for _ in 0..<3_000 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            var tls: Int?
            var plain: Int?
            for line in text.split(separator: "\n") where line.hasSuffix("listening") {
                guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("listen.address=") }),
                    let port = Int(address.split(separator: ":").last ?? "")
                else { continue }
                if line.contains("listen.tls=true") { tls = port } else { plain = port }
            }
            if let tls, let plain { return (tls, plain) }
            // A process that has ended stays a zombie until reaped, which `kill(pid, 0)` can't tell.
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw TestFailure("deputyd ended (wait status \(status)): \(text)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("deputyd did not listen within 30 s")
    }

    /// The generated super administrator password, once the daemon has written it, waiting with a bound.
    static func waitForPassword(data: String) async throws -> String {
        let file = (data as NSString).appendingPathComponent("initial-password")
        for _ in 0..<3_000 {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), text.hasSuffix("\n") {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("deputyd wrote no initial password")
    }

    /// A thousand connections need more descriptors than some shells allow by default; the
    /// daemon inherits the raised limit.
    private static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 8_192 else { return }
        limit.rlim_cur = min(limit.rlim_max, 8_192)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
