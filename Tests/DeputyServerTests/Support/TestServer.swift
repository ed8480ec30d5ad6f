import DeputyCore
import DeputyProtocol
import DeputyServer
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
    let committer: InMemoryCommitter
    let clock: TestClock
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let pool: NIOThreadPool

    private init(tlsPort: Int, plainPort: Int, certificate: ServerCertificate, certificatePEM: String, committer: InMemoryCommitter, clock: TestClock, group: ServiceGroup, task: Task<Void, any Error>, pool: NIOThreadPool) {
        self.tlsPort = tlsPort
        self.plainPort = plainPort
        self.certificate = certificate
        self.certificatePEM = certificatePEM
        self.committer = committer
        self.clock = clock
        self.group = group
        self.task = task
        self.pool = pool
    }

    static func directory() -> Directory {
        var directory = Directory()
        directory.apply(.createOrganization(NewOrganization(
            name: "example", domain: DomainName("example.test")!, superAdministrator: EmailAddress("admin@example.test")!,
            superAdministratorName: "Administrator", passwordHash: hasher.hash(adminPassword)
        )), context: CommandContext(actor: .system, time: start))
        return directory
    }

    static func launch(limits: ServerLimits = ServerLimits(), throttle: LoginThrottle.Policy = .init(), plainSocket: String? = nil) async throws -> TestServer {
        let generated = try ServerCertificate.generate(hostNames: ["localhost"])
        let tls = try NIOSSLContext(configuration: TLSSettings.serverConfiguration(generated.certificate))
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let clock = TestClock(start)
        let committer = InMemoryCommitter(directory())
        let environment = SessionEnvironment(
            committer: committer, passwords: PasswordService(hasher: hasher, pool: pool), throttle: LoginThrottle(policy: throttle),
            clock: { clock.now }, limits: limits.protocolLimits, maximumListing: limits.maximumListing
        )
        var configuration = ServerConfiguration()
        configuration.listen = .tcp(host: "127.0.0.1", port: 0)
        configuration.plainListen = .tcp(host: "127.0.0.1", port: 0)
        configuration.limits = limits
        configuration.plainSocket = plainSocket
        let (ports, continuation) = AsyncStream.makeStream(of: [DeputyServer.BoundListener].self)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = DeputyServer(configuration: configuration, environment: environment, tls: tls, logger: logger) { bound in
            continuation.yield(bound)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let task = Task { try await group.run() }
        var listeners: [DeputyServer.BoundListener] = []
        for await bound in ports { listeners = bound }
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
            certificatePEM: generated.certificatePEM, committer: committer, clock: clock, group: group, task: task, pool: pool
        )
    }

    /// Shuts the server down gracefully and waits until it has.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        try await pool.shutdownGracefully()
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
