import Foundation
import Glibc

/// Runs the programs the cluster tests drive (PostgreSQL's server tools, openssl).
///
/// It spawns them itself rather than through Foundation's `Process`, which learns that a
/// child ended when a socket the child inherited closes: `pg_ctl start` leaves a server
/// running that holds that socket, so its end would never be seen. Here the child's
/// output goes to files and the exit is
/// taken from `waitpid`, whatever the child left running.
enum Shell {
    struct Output: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String

        var trimmed: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether the tests run as root: then PostgreSQL's tools, which refuse root, run as
    /// the `postgres` user through runuser.
    static let isRoot = getuid() == 0

    /// Runs `program` with `arguments`, as the `postgres` user when `asPostgres` and the
    /// tests run as root, for at most `seconds`; throws unless it exits 0 (or `check` is off).
    @discardableResult
    static func run(
        _ program: String, _ arguments: [String], asPostgres: Bool = false, environment: [String: String] = [:],
        seconds: Double = 120, check: Bool = true
    ) async throws -> Output {
        // The tools work in /tmp: a working directory they cannot read (/root) fails them.
        let argv = ["/usr/bin/env", "--chdir=/tmp"] + (asPostgres && isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] : [program]) + arguments
        // Server tools must not inherit a caller's libpq settings.
        var inherited = ProcessInfo.processInfo.environment
        for name in ["PGPASSWORD", "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS", "PGAPPNAME", "PGSERVICE", "PGSSLMODE", "PGTARGETSESSIONATTRS", "PGPASSFILE"] {
            inherited[name] = nil
        }
        let envp = inherited.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let base = "/tmp/deputy-shell-\(UUID().uuidString.prefix(12))"
        let outPath = base + ".out"
        let errPath = base + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let status = try await spawnAndWait(argv, envp, stdout: outPath, stderr: errPath, seconds: seconds)
        let output = Output(
            status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "", stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
        if check && status != 0 {
            throw Failure(description: "\(argv.joined(separator: " ")) exited \(status): \(output.stderr)\(output.stdout)")
        }
        return output
    }

    /// The environment variables that set the cluster tests' counts and logging.
    static let testKnobs: Set<String> = [
        "DEPUTY_CLUSTER_NODE_KILLS", "DEPUTY_CLUSTER_NODE_FAILOVERS", "DEPUTY_CLUSTER_NODE_WRITE_RATE", "DEPUTY_CLUSTER_FAILOVER_CYCLES",
        "DEPUTY_CLUSTER_OUTAGE_SECONDS", "DEPUTY_CLUSTER_TRANSFER_ROUNDS", "DEPUTY_CLUSTER_TEST_LOG",
    ]

    /// Starts `program` and returns at once with its process id; its output goes to `log`.
    /// ``reap(_:)`` collects it once it ends.
    static func spawn(_ program: String, _ arguments: [String], log: String) throws -> pid_t {
        // The tests' own knobs are no settings of deputyd, which would warn about each.
        let envp = ProcessInfo.processInfo.environment.filter { !testKnobs.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        return try start([program] + arguments, envp, stdout: log, stderr: log, append: true)
    }

    /// Waits until `pid`, a child started by ``spawn(_:_:log:)``, has ended; its status.
    @discardableResult
    static func reap(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                // Exited: its code; killed by a signal: 128 and the signal, as shells say.
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
        }
    }

    /// Waits at most `seconds` for `pid`, a child started by ``spawn(_:_:log:)``, to end:
    /// its status, or `nil` when it was still running (it is then killed and reaped), so
    /// that a process expected to refuse to start fails the test instead of hanging it.
    static func reap(_ pid: pid_t, within seconds: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let ended = waitpid(pid, &status, WNOHANG)
            if ended == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            if ended < 0, errno != EINTR { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        await reap(pid)
        return nil
    }

    private static func start(_ argv: [String], _ envp: [String], stdout: String, stderr: String, append: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o644)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = envp.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
        guard spawned == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        return pid
    }

    private static func spawnAndWait(_ argv: [String], _ envp: [String], stdout: String, stderr: String, seconds: Double) async throws -> Int32 {
        let child = try start(argv, envp, stdout: stdout, stderr: stderr)
        let killer = Task {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            kill(child, SIGKILL)
        }
        defer { killer.cancel() }
        return await reap(child)
    }
}
