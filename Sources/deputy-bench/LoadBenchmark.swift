import DeputyMailAdapters
import ArgumentParser
import DeputyBenchData
import DeputyClient
import DeputyCore
import DeputyProtocol
import Foundation
import Histogram
import NIOCore

/// `deputy-bench load`: requests over TLS connections to a real daemon, as mail servers and
/// administrators would send them; throughput, latency percentiles, and the daemon's CPU
/// time per answer and resident memory.
struct LoadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a deputyd over TLS (one it starts on the bench dataset, or --address) and report throughput and latency."
    )

    @Option(help: "The workload: \(LoadWorkload.allCases.map(\.rawValue).joined(separator: ", ")).") var workload = LoadWorkload.sendas
    @Option(help: "TLS connections.") var connections = 50
    @Option(help: "Requests written at once on each connection before reading their replies.") var depth = 1
    @Option(help: "Seconds to measure, after one second of warm-up.") var seconds = 10.0
    @Option(help: "Hold this many requests per second in all, each written when due whatever is still unanswered, and timed from when it was due (no coordinated omission).") var rate: Int?
    @Option(help: "Also log in this many times per second (BIND as dataset users over 10 more connections) while the workload runs.") var bindRate: Int?
    @Option(help: "Write the results as JSON to this file as well.") var json: String?

    @Option(help: "A running daemon, HOST:PORT, instead of starting one (for the socketmap workload, its socketmap listener); the nodes of a cluster, comma-separated, share the connections in turn.") var address: String?
    @Option(help: "With several --address nodes: this many times a second, change an entry through one node and time until each other node answers a query that waits for that change's revision (replication lag as a client sees it).") var lagProbes: Int?
    @Option(help: "With --address: the CA or self-signed certificate (PEM) to trust.") var ca: String?
    @Option(help: "With --address: the daemon's process id, to report its CPU time and memory.") var pid: Int32?
    @Option(help: "The login to BIND as.") var login = "admin@\(BenchDataset.domain)"
    @Option(help: "Its password (the bench dataset's own).") var password = LoadBenchmark.datasetPassword

    @Option(help: "The deputyd executable to start (default: next to this one).") var deputyd: String?
    @Option(help: "Data directory for the daemon it starts (default: a new temporary one, removed afterwards).") var data: String?
    @Option(help: "Users in the dataset.") var users = 100_000
    @Option(help: "Groups in the dataset.") var groups = 10_000
    @Option(help: "Delegations in the dataset.") var delegations = 200_000
    @Option(help: "PBKDF2 iterations of the dataset's password hashes (they cost every BIND).") var hashIterations = 10_000

    static let datasetPassword = "bench password"

    func validate() throws {
        guard connections > 0, depth > 0, seconds > 0 else { throw ValidationError("--connections, --depth and --seconds must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let bindRate, bindRate <= 0 { throw ValidationError("--bind-rate must be positive") }
        if rate != nil, depth != 1 { throw ValidationError("--rate writes each request when it is due; --depth does not apply") }
        if rate != nil || bindRate != nil, workload == .socketmap { throw ValidationError("the socketmap workload runs closed loop, without --rate or --bind-rate") }
        if address != nil, data != nil { throw ValidationError("--data is for a daemon this starts; not with --address") }
        if let lagProbes {
            guard lagProbes > 0, (address ?? "").split(separator: ",").count >= 2 else { throw ValidationError("--lag-probes needs a positive rate and two or more --address nodes") }
        }
    }

    func run() async throws {
        let dataset = BenchDataset(users: users, groups: groups, delegations: delegations)
        let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: hashIterations)).hash(Self.datasetPassword)
        let contents = dataset.contents(passwordHash: hash)

        var daemon: BenchDaemon?
        var temporary: String?
        // Connection `index` goes to node `index` modulo the nodes given.
        let connect: @Sendable (Int) async throws -> DeputyConnection
        var nodes = 1
        if let address {
            let endpoints = try address.split(separator: ",").map { try DeputyClientConfiguration.Endpoint(parsing: String($0)) }
            nodes = endpoints.count
            let configuration = DeputyClientConfiguration(trust: ca.map(DeputyTrust.certificateFile) ?? .systemDefault)
            connect = { index in try await DeputyConnection.connect(to: endpoints[index % endpoints.count], configuration: configuration) }
        } else {
            let directory = data ?? {
                let path = NSTemporaryDirectory() + "deputy-bench-\(UUID().uuidString)"
                temporary = path
                return path
            }()
            let executable = deputyd ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
            let started = try await BenchDaemon.start(deputyd: executable, dataDirectory: directory, dataset: dataset, passwordHash: hash)
            daemon = started
            connect = { _ in try await started.connect() }
            print("deputyd started in \(format(started.startup.seconds)) s (process start to first TLS greeting), port \(started.port)")
        }
        defer {
            daemon?.stop()
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
        }
        let statistics: () throws -> ProcessStatistics? = {
            if let daemon { return try ProcessStatistics(pid: daemon.process.processIdentifier) }
            return try pid.map { try ProcessStatistics(pid: $0) }
        }
        if let loaded = try statistics() { print("daemon resident memory with the dataset loaded: \(format(loaded.residentMebibytes)) MiB") }

        // The socketmap workload talks plaintext to the socketmap listener: no TLS, no BIND.
        let socketmap: (host: String, port: Int)? = workload != .socketmap ? nil : try {
            if let daemon { return ("127.0.0.1", daemon.socketmapPort) }
            let parts = (address ?? "").split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--address must be HOST:PORT of the socketmap listener") }
            return (String(parts[0]), port)
        }()
        // The sessions connect and log in together, as mail servers' connections come back
        // after a restart. How long that took is reported, so a slow handshake shows, and
        // the measurement starts once every session is in.
        let connecting = ContinuousClock.now
        let sessions = try await withThrowingTaskGroup(of: (Int, DeputyConnection).self) { group in
            let (login, password) = (login, password)
            for index in 0..<(socketmap == nil ? connections : 0) {
                group.addTask {
                    let connection = try await connect(index)
                    let reply = try await connection.bind(login: login, password: password)
                    guard reply.status.isOK else { throw BenchFailure("BIND as \(login) was refused: \(reply.status)") }
                    return (index, connection)
                }
            }
            var connected: [(Int, DeputyConnection)] = []
            for try await session in group { connected.append(session) }
            return connected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let sessionsSeconds = sessions.isEmpty ? nil : (ContinuousClock.now - connecting).seconds
        let grants = socketmap == nil && workload.usesSendAsGrants ? LoadWorkload.sendAsGrants(in: contents) : []
        let pools = socketmap == nil ? (0..<connections).map { workload.requests(dataset: dataset, grants: grants, connection: $0).map(\.line) } : []
        var binders: [DeputyConnection] = []
        if bindRate != nil {
            for index in 0..<10 { binders.append(try await connect(index)) }
        }
        let bindCounts = LockedCounts()
        // One probing session per node: the first changes, the others wait for its revision.
        var probes: [DeputyConnection] = []
        if lagProbes != nil {
            for node in 0..<nodes {
                let connection = try await connect(node)
                guard try await connection.bind(login: login, password: password).status.isOK else { throw BenchFailure("BIND as \(login) was refused") }
                probes.append(connection)
            }
        }
        let lags = LagProbe.Samples()

        let warmUp = ContinuousClock.now + .seconds(1)
        let end = warmUp + .seconds(seconds)
        let interval = rate.map { Duration.seconds(Double(connections) / Double($0)) }
        let before = LockedStatistics()
        let results = try await withThrowingTaskGroup(of: ConnectionResult.self) { tasks in
            if let socketmap {
                for index in 0..<connections {
                    let requests = SocketmapLoad.requests(dataset: dataset, connection: index)
                    let depth = depth
                    tasks.addTask {
                        try await SocketmapLoad.drive(host: socketmap.host, port: socketmap.port, requests: requests, depth: depth, warmUp: warmUp, end: end)
                    }
                }
            }
            for (index, connection) in sessions.enumerated() {
                let requests = pools[index]
                let depth = depth
                tasks.addTask {
                    try await Self.drive(connection, requests: requests, depth: depth, interval: interval, offset: index, warmUp: warmUp, end: end)
                }
            }
            if let bindRate {
                let interval = Duration.seconds(Double(binders.count) / Double(bindRate))
                for (index, binder) in binders.enumerated() {
                    let users = users
                    tasks.addTask {
                        try await Self.storm(binder, interval: interval, offset: index, users: users, warmUp: warmUp, end: end, counts: bindCounts)
                        return ConnectionResult()
                    }
                }
            }
            if let lagProbes, !probes.isEmpty {
                let interval = Duration.seconds(1.0 / Double(lagProbes))
                let probes = probes
                tasks.addTask {
                    try await LagProbe.run(probes, interval: interval, warmUp: warmUp, end: end, samples: lags)
                    return ConnectionResult()
                }
            }
            // The daemon's CPU time is read when the warm-up ends, from here.
            try await Task.sleep(until: warmUp)
            before.set(try statistics())
            var all: [ConnectionResult] = []
            for try await result in tasks { all.append(result) }
            return all
        }
        let after = try statistics()
        for session in sessions + binders + probes { await session.close() }

        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var answers = 0
        var errors = 0
        var firstError: String?
        for result in results {
            histogram.add(result.latencies)
            answers += result.answers
            errors += result.errors
            firstError = firstError ?? result.firstError
        }
        var report = LoadReport(
            workload: workload.rawValue, connections: connections, depth: depth, rate: rate, seconds: seconds,
            answers: answers, errors: errors, histogram: histogram,
            serverCPUSeconds: before.value.flatMap { start in after.map { $0.cpuSeconds - start.cpuSeconds } },
            serverResidentMebibytes: after?.residentMebibytes, startupSeconds: daemon?.startup.seconds,
            users: users, groups: groups, delegations: delegations
        )
        report.sessionsConnectedSeconds = sessionsSeconds
        print(report.text)
        if workload == .guesses {
            guard errors == answers else { throw BenchFailure("\(answers - errors) of \(answers) password guesses were accepted") }
            let perThousand = answers > 0 ? 1_000 * seconds / Double(answers) : .infinity
            print("guesses: all \(answers) refused; 1,000 guesses against one account take \(format(perThousand, digits: 1)) s at \(hashIterations) PBKDF2 iterations")
        }
        if let bindRate {
            let (accepted, refused) = bindCounts.value
            report.bindStorm = ["asked": Double(bindRate), "acceptedPerSecond": Double(accepted) / seconds, "refused": Double(refused)]
            print("BIND storm: asked \(bindRate)/s, \(format(Double(accepted) / seconds, digits: 0))/s accepted, \(refused) refused")
        }
        if lagProbes != nil {
            let summary = lags.summary
            report.replicationLagMilliseconds = summary.milliseconds
            print(summary.text)
        }
        if let firstError { print("first error: \(firstError)") }
        if let json { try report.writeJSON(to: json) }
    }

    /// Logins on one connection, one each time one is due, as random dataset users; only
    /// those during the measurement are counted.
    static func storm(
        _ connection: DeputyConnection, interval: Duration, offset: Int, users: Int, warmUp: ContinuousClock.Instant,
        end: ContinuousClock.Instant, counts: LockedCounts
    ) async throws {
        var random = BenchRandom(seed: UInt64(0xB1D + offset))
        var due = ContinuousClock.now + interval * (Double(offset) / 10)
        while due < end {
            // Pacing a load, not waiting for a condition: the next login is due at a time.
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
            let reply = try await connection.bind(login: BenchDataset.user(random.below(users)), password: datasetPassword)
            if due >= warmUp { counts.add(accepted: reply.status.isOK) }
            due += interval
        }
    }

    /// One connection's share: closed loop (`depth` requests a round trip) or, with an
    /// interval, one request each time one is due (``RateDriver``).
    static func drive(
        _ connection: DeputyConnection, requests: [RequestLine], depth: Int, interval: Duration?, offset: Int,
        warmUp: ContinuousClock.Instant, end: ContinuousClock.Instant
    ) async throws -> ConnectionResult {
        var result = ConnectionResult()
        var next = 0
        func batch(_ count: Int) -> [RequestLine] {
            (0..<count).map { _ in
                defer { next = (next + 1) % requests.count }
                return requests[next]
            }
        }
        func record(_ replies: [Reply], latency: Duration, measured: Bool) {
            guard measured else { return }
            result.record(replies, nanoseconds: UInt64(max(0, latency.seconds * 1e9)))
        }
        if let interval {
            let driver = RateDriver(connection: connection, requests: requests, interval: interval, offset: offset, warmUp: .seconds(1), measured: end - warmUp)
            return try await driver.run()
        } else {
            while true {
                let sent = ContinuousClock.now
                guard sent < end else { break }
                let replies = try await connection.send(batch(depth))
                record(replies, latency: ContinuousClock.now - sent, measured: sent >= warmUp)
            }
        }
        return result
    }
}

/// What one connection measured.
struct ConnectionResult: Sendable {
    var answers = 0
    var errors = 0
    var firstError: String?
    /// Nanoseconds from sending (or, at a fixed rate, from being due) to the reply.
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    /// Counts `replies`, each answered after `nanoseconds`, and their refusals.
    mutating func record(_ replies: [Reply], nanoseconds: UInt64) {
        for reply in replies {
            answers += 1
            latencies.record(nanoseconds)
            if case .error(let code, let text) = reply.status {
                errors += 1
                firstError = firstError ?? "\(code) \(text)"
            }
        }
    }
}

/// The daemon's statistics when the measurement began, set once from the measuring task.
final class LockedStatistics: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ProcessStatistics?
    func set(_ value: ProcessStatistics?) { lock.withLock { stored = value } }
    var value: ProcessStatistics? { lock.withLock { stored } }
}

/// Logins accepted and refused during the measurement.
final class LockedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var accepted = 0
    private var refused = 0
    func add(accepted wasAccepted: Bool) { lock.withLock { if wasAccepted { accepted += 1 } else { refused += 1 } } }
    var value: (accepted: Int, refused: Int) { lock.withLock { (accepted, refused) } }
}

func format(_ value: Double, digits: Int = 2) -> String {
    String(format: "%.\(digits)f", value)
}

/// One connection holding a request rate, on the connection's own event loop: each request
/// is written when it is due, whether or not earlier ones have been answered, and timed
/// from when it was due, so a slow answer delays the measurement of every request behind
/// it (no coordinated omission). Scheduling from the event loop rather than a task keeps
/// the generator's own thread hops out of the figures.
final class RateDriver: @unchecked Sendable {
    // Unchecked: every property is touched only on `connection.eventLoop`.
    private let connection: DeputyConnection
    private let requests: [RequestLine]
    private let interval: TimeAmount
    private let warmUp: NIODeadline
    private let end: NIODeadline
    private var due: NIODeadline
    private var next: Int
    private var outstanding = 0
    private var result = ConnectionResult()
    private let done: EventLoopPromise<ConnectionResult>
    private var finished = false

    init(connection: DeputyConnection, requests: [RequestLine], interval: Duration, offset: Int, warmUp: Duration, measured: Duration) {
        let now = NIODeadline.now()
        self.connection = connection
        self.requests = requests
        self.interval = .nanoseconds(Int64(interval.seconds * 1e9))
        self.warmUp = now + .nanoseconds(Int64(warmUp.seconds * 1e9))
        self.end = self.warmUp + .nanoseconds(Int64(measured.seconds * 1e9))
        // Spread the connections' schedules over one interval so they do not fire together.
        self.due = now + .nanoseconds(Int64(interval.seconds * 1e9 * Double(offset % 97) / 97))
        self.next = 0
        self.done = connection.eventLoop.makePromise(of: ConnectionResult.self)
    }

    func run() async throws -> ConnectionResult {
        connection.eventLoop.execute { self.schedule() }
        return try await done.futureResult.get()
    }

    private func schedule() {
        guard due < end else {
            if outstanding == 0 { finish(.success(result)) }
            return
        }
        connection.eventLoop.scheduleTask(deadline: due) { self.fire() }
    }

    private func fire() {
        let dueAt = due
        due = due + interval
        let request = requests[next]
        next = (next + 1) % requests.count
        outstanding += 1
        connection.submit([request]).whenComplete { outcome in
            self.outstanding -= 1
            switch outcome {
            case .success(let replies):
                if dueAt >= self.warmUp {
                    self.result.record(replies, nanoseconds: UInt64(max(0, (NIODeadline.now() - dueAt).nanoseconds)))
                }
            case .failure(let error):
                self.finish(.failure(error))
            }
            if self.due >= self.end, self.outstanding == 0 { self.finish(.success(self.result)) }
        }
        schedule()
    }

    private func finish(_ outcome: Result<ConnectionResult, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(outcome)
    }
}
