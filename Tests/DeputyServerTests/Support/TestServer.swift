import DeputyCore
import DeputyDaemon
import DeputyProtocol
import DeputyServer
import DeputyStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing

/// A real daemon in the test process: TLS on an ephemeral port, plaintext on loopback,
/// a directory with the organisation `example` whose super administrator `admin@example.test`
/// has the password `correct horse battery`, and a clock the test sets.
final class TestServer: Sendable {
    static let adminPassword = "correct horse battery"
    static let start = Timestamp.parse("2026-11-23T10:00:00Z")!
    static let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))

    let tlsPort: Int
    let plainPort: Int
    let certificate: ServerCertificate
    let certificatePEM: String
    /// The daemon's single writer: the durable store, in a temporary data directory.
    let committer: any DirectoryCommitter
    let clock: TestClock
    let dataDirectory: String
    private let daemon: DeputyDaemon
    private let task: Task<Void, any Error>

    private init(
        tlsPort: Int, plainPort: Int, certificate: ServerCertificate, certificatePEM: String, daemon: DeputyDaemon, clock: TestClock,
        dataDirectory: String, task: Task<Void, any Error>
    ) {
        self.tlsPort = tlsPort
        self.plainPort = plainPort
        self.certificate = certificate
        self.certificatePEM = certificatePEM
        self.committer = daemon.committer
        self.daemon = daemon
        self.clock = clock
        self.dataDirectory = dataDirectory
        self.task = task
    }

    /// The directory an empty data directory starts with, as the daemon makes it.
    static func directory() -> Directory {
        var directory = Directory()
        directory.apply(.createOrganization(NewOrganization(
            name: "example", domain: DomainName("example.test")!, superAdministrator: EmailAddress("admin@example.test")!,
            superAdministratorName: "Administrator", passwordHash: hasher.hash(adminPassword)
        )), context: CommandContext(actor: .system, time: start))
        return directory
    }

    /// Builds the daemon as `deputyd serve` does (``DeputyDaemon``), on a new data directory,
    /// with a generated certificate, a cheap password hash and a clock the test sets.
    static func launch(
        limits: ServerLimits = ServerLimits(), throttle: LoginThrottle.Policy = .init(), plainSocket: String? = nil, root existing: String? = nil,
        hostNames: [String] = ["localhost"]
    ) async throws -> TestServer {
        let root = existing ?? FileManager.default.temporaryDirectory.appendingPathComponent("deputy-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let generated = try ServerCertificate.generate(hostNames: hostNames)
        try SecretFile.write(generated.certificatePEM, to: root + "/cert.pem")
        try SecretFile.write(generated.keyPEM, to: root + "/key.pem")
        var settings = try DaemonSettings(SettingValues(flags: [
            .data: [root + "/data"], .listen: ["127.0.0.1:0"], .plainListen: ["127.0.0.1:0"],
            .cert: [root + "/cert.pem"], .key: [root + "/key.pem"], .initialPassword: [adminPassword],
        ], environment: [:]))
        settings.server.limits = limits
        settings.server.plainSocket = plainSocket
        settings.throttle = throttle
        let clock = TestClock(start)
        let (ports, continuation) = AsyncStream.makeStream(of: [DeputyServer.BoundListener].self)
        var options = DeputyDaemon.Options()
        options.clock = { clock.now }
        options.hasher = hasher
        options.shutdownSignals = []
        // Repeatable secrets and recovery codes, so protocol.md can show an enrolment.
        options.factorRandomness = SeededBytes(seed: 0x6465_7075_7479).next
        options.onListening = { bound in
            continuation.yield(bound)
            continuation.finish()
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let daemon = try await DeputyDaemon.build(settings: settings, options: options, logger: logger)
        let task = Task { try await daemon.run() }
        // A daemon that stops before it listens ends the wait too, and its error is thrown.
        Task {
            _ = await task.result
            continuation.finish()
        }
        var listeners: [DeputyServer.BoundListener] = []
        for await bound in ports { listeners = bound }
        if listeners.isEmpty {
            try await task.value
            throw TestFailure("the daemon stopped before it listened")
        }
        func port(tls: Bool) throws -> Int {
            let tcp = listeners.compactMap { listener -> Int? in
                if case .tcp(_, let port) = listener.address, listener.tls == tls { return port }
                return nil
            }
            guard let port = tcp.first else { throw TestFailure("no listener") }
            return port
        }
        return TestServer(
            tlsPort: try port(tls: true), plainPort: try port(tls: false), certificate: generated.certificate,
            certificatePEM: generated.certificatePEM, daemon: daemon, clock: clock, dataDirectory: root, task: task
        )
    }

    /// Shuts the server down gracefully and starts it again on the same data directory.
    func restart() async throws -> TestServer {
        await daemon.triggerGracefulShutdown()
        try await task.value
        return try await Self.launch(root: dataDirectory)
    }

    /// Shuts the server down gracefully and waits until it has.
    func stop() async throws {
        await daemon.triggerGracefulShutdown()
        try await task.value
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// A plaintext client.
    func plainClient() async throws -> LineClient {
        try await LineClient.connect(port: plainPort, tls: nil)
    }

    /// A TLS client that trusts the server's certificate.
    func tlsClient() async throws -> LineClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(certificate.chain)
        configuration.minimumTLSVersion = .tlsv12
        return try await LineClient.connect(port: tlsPort, tls: configuration, serverHostname: "localhost")
    }

    /// A plaintext client bound as `login`.
    func boundClient(_ login: String = "admin@example.test", password: String = adminPassword) async throws -> LineClient {
        let client = try await plainClient()
        let reply = try await client.send("BIND \(login) \"\(password)\"")
        #expect(reply.last?.hasPrefix("OK") == true, "BIND \(login): \(reply)")
        return client
    }
}

/// A repeatable source of bytes (SplitMix64), standing in for the system's random
/// generator where a test must know what a secret will be.
final class SeededBytes: Sendable {
    private let state: Mutex<UInt64>
    init(seed: UInt64) { state = Mutex(seed) }

    @Sendable func next(_ count: Int) -> [UInt8] {
        state.withLock { state in
            (0..<count).map { _ in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return UInt8(truncatingIfNeeded: z ^ (z >> 31))
            }
        }
    }
}

/// The time as the test sets it.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
