import ArgumentParser
import DeputyBenchData
import DeputyCore
import Foundation
import Glibc

/// `deputy-bench guesses`: password guessing from many client addresses against one account
/// of a real daemon, while the account's owner logs in from an address it used before.
///
/// Each attacking address is its own loopback address (127.0.0.2 and up, all of which reach
/// the loopback interface) guessing as fast as the daemon answers. The daemon's audit log
/// tells which guesses were judged (`login-failed`: the password was really checked) and
/// which the throttle refused unread; the judged rate at the end of the run is the rate an
/// attacker keeps.
struct GuessBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guesses",
        abstract: "Guess one account's password from many loopback addresses and report how many guesses the daemon really checks."
    )

    @Option(help: "Attacking client addresses (127.0.0.2 and up).") var sources = 100
    @Option(help: "Seconds to attack.") var seconds = 120.0
    @Option(help: "PBKDF2 iterations of the dataset's password hashes (the daemon's own cost is 600,000).") var hashIterations = 600_000
    @Option(help: "Users in the dataset.") var users = 1_000
    @Option(help: "The deputyd executable to start (default: next to this one).") var deputyd: String?
    @Option(parsing: .unconditionalSingleValue, help: "An argument added to deputyd serve (repeat it), such as --daemon-argument=--lockout-delay-max --daemon-argument=60.") var daemonArgument: [String] = []

    func validate() throws {
        guard (1...250).contains(sources) else { throw ValidationError("--sources must be 1 to 250 (127.0.0.2 to 127.0.0.251)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        let dataset = BenchDataset(users: users, groups: max(1, users / 10), delegations: users)
        let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: hashIterations)).hash(LoadBenchmark.datasetPassword)
        let directory = NSTemporaryDirectory() + "deputy-bench-guesses-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executable = deputyd ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
        let plainPort = try BenchDaemon.freePort()
        let daemon = try await BenchDaemon.start(
            deputyd: executable, dataDirectory: directory, dataset: dataset, passwordHash: hash,
            extraArguments: ["--plain-listen", "127.0.0.1:\(plainPort)"] + daemonArgument
        )
        defer { daemon.stop() }
        let victim = BenchDataset.user(1)
        let administrator = "admin@\(BenchDataset.domain)"

        // The owner has logged in from 127.0.0.1 before: that address is known to the account.
        let owner = try LineSocket(port: plainPort, source: "127.0.0.1")
        let first = owner.request("BIND \(victim) \"\(LoadBenchmark.datasetPassword)\"")
        guard first?.hasPrefix("OK") == true else {
            throw BenchFailure("the owner could not log in before the attack: \(first ?? "the connection closed")")
        }

        let start = Date()
        let end = start.addingTimeInterval(seconds)
        let attempts = AttemptCount()
        let attackers = (0..<sources).map { index in
            Thread { Self.attack(port: plainPort, source: "127.0.0.\(index + 2)", victim: victim, until: end, attempts: attempts) }
        }
        for attacker in attackers { attacker.start() }

        // Meanwhile the owner logs in every 5 s from the known address, and is timed.
        var ownerLogins: [(ok: Bool, seconds: Double)] = []
        while Date() < end {
            let began = Date()
            let reply = owner.request("BIND \(victim) \"\(LoadBenchmark.datasetPassword)\"")
            ownerLogins.append((reply?.hasPrefix("OK") == true, Date().timeIntervalSince(began)))
            // Pacing the owner's logins, not waiting for a condition.
            try await Task.sleep(for: .seconds(5))
        }
        while attempts.running > 0 { try await Task.sleep(for: .milliseconds(100)) }

        // The judged guesses, from the audit log, read as an administrator from a known address.
        let auditor = try LineSocket(port: plainPort, source: "127.0.0.1")
        guard auditor.request("BIND \(administrator) \"\(LoadBenchmark.datasetPassword)\"")?.hasPrefix("OK") == true else {
            throw BenchFailure("the administrator could not log in")
        }
        guard let listing = auditor.listing("AUDIT target=\(victim) limit=1000"), listing.last?.hasPrefix("OK") == true else {
            throw BenchFailure("AUDIT failed")
        }
        let times = listing.filter { $0.contains("action=login-failed") }.compactMap { line -> Date? in
            guard let range = line.range(of: "time=") else { return nil }
            return Timestamp.parse(String(line[range.upperBound...].prefix(while: { $0 != " " })))
        }.sorted()
        let judged = times.count
        // The steady rate: the median gap between checked guesses in the run's second half
        // (or its last two, when fewer fell there).
        let late = times.filter { $0 >= start.addingTimeInterval(seconds / 2) }
        let sample = late.count >= 2 ? late : Array(times.suffix(2))
        let gaps = zip(sample.dropFirst(), sample).map { $0.timeIntervalSince($1) }.sorted()
        let gap = gaps.isEmpty ? Double.infinity : gaps[gaps.count / 2]
        let ownerOK = ownerLogins.filter(\.ok).count
        let ownerSlowest = ownerLogins.map(\.seconds).max() ?? 0
        print("guesses from \(sources) addresses over \(Int(seconds)) s: \(attempts.total) sent, \(judged) checked by the daemon, \(attempts.total - judged) refused unread")
        print("at the end, one checked guess every \(String(format: "%.1f", gap)) s: 1,000 checked guesses take \(String(format: "%.1f", gap * 1_000 / 3_600)) hours at that rate")
        print("the owner from its known address: \(ownerOK) of \(ownerLogins.count) logins accepted, the slowest in \(String(format: "%.2f", ownerSlowest)) s")
        if ownerOK != ownerLogins.count { throw BenchFailure("the owner was locked out during the attack") }
    }

    /// One attacking address: wrong passwords as fast as the daemon answers, reconnecting
    /// when it closes the connection.
    static func attack(port: Int, source: String, victim: String, until end: Date, attempts: AttemptCount) {
        attempts.begin()
        defer { attempts.finish() }
        var guess = 0
        while Date() < end {
            guard let socket = try? LineSocket(port: port, source: source) else { return }
            while Date() < end, socket.request("BIND \(victim) guess-\(source)-\(guess)") != nil {
                guess += 1
                attempts.add()
            }
        }
    }
}

/// Counts attempts and running attackers across threads.
final class AttemptCount: @unchecked Sendable {
    private let lock = NSLock()
    private var attempts = 0
    private var active = 0

    func add() { lock.withLock { attempts += 1 } }
    func begin() { lock.withLock { active += 1 } }
    func finish() { lock.withLock { active -= 1 } }
    var total: Int { lock.withLock { attempts } }
    var running: Int { lock.withLock { active } }
}

/// A blocking plaintext protocol connection from a chosen loopback address.
final class LineSocket {
    private let descriptor: Int32
    private var buffered: [UInt8] = []

    init(port: Int, source: String) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchFailure("socket: errno \(errno)") }
        func address(_ host: String, _ port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(host)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            return address
        }
        var local = address(source, 0)
        var remote = address("127.0.0.1", port)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, size) } }
        let connected = bound == 0 && withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, size) } } == 0
        guard connected, readLine() != nil else {
            close(descriptor)
            throw BenchFailure("cannot connect from \(source) to port \(port): errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    /// Sends one request and returns the status line of its reply.
    func request(_ line: String) -> String? {
        listing(line)?.last
    }

    /// Sends one request and returns every line of its reply, the status line last.
    func listing(_ line: String) -> [String]? {
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        var lines: [String] = []
        while let reply = readLine() {
            lines.append(reply)
            if !reply.hasPrefix("* ") { return lines }
        }
        return nil
    }

    private func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffered += chunk[..<count]
        }
    }
}
