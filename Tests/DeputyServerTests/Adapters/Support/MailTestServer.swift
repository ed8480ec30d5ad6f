import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The mail-server listeners in the test process, on ephemeral loopback ports and a Unix
/// socket for the dict, answering from ``MailFixture``'s directory. Delegated sends are
/// collected for the tests and committed to the directory's audit log, as in the daemon.
final class MailTestServer: Sendable {
    let committer: InMemoryCommitter
    let clock: TestClock
    let recorder: CollectingRecorder
    let readiness: Readiness
    let listeners: [MailAdapterServer.BoundListener]
    let directoryPath: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let pool: NIOThreadPool

    private init(
        committer: InMemoryCommitter, clock: TestClock, recorder: CollectingRecorder, readiness: Readiness,
        listeners: [MailAdapterServer.BoundListener], directoryPath: String, group: ServiceGroup, task: Task<Void, any Error>, pool: NIOThreadPool
    ) {
        self.committer = committer
        self.clock = clock
        self.recorder = recorder
        self.readiness = readiness
        self.listeners = listeners
        self.directoryPath = directoryPath
        self.group = group
        self.task = task
        self.pool = pool
    }

    /// Starts every kind of listener with `limits`; `throttle` for the auth listener; a
    /// milter listener too when `milter` says what it does with unauthenticated mail (the
    /// milter then records delegated sends, the policy service not).
    static func launch(
        limits: MailAdapterLimits = MailAdapterLimits(), throttle: LoginThrottle.Policy = .init(), tcpTableMaps: [MailMap] = [.senders, .aliases],
        milter: MilterUnauthenticated? = nil, recipientDelimiter: RecipientDelimiter? = nil
    ) async throws -> MailTestServer {
        let directoryPath = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-mail-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directoryPath, withIntermediateDirectories: true)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let clock = TestClock(MailFixture.now)
        let committer = InMemoryCommitter(MailFixture.directory())
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let recorder = CollectingRecorder(next: CommittingDelegatedSendRecorder(committer: committer, logger: logger))
        let readiness = Readiness()
        let environment = MailAdapterEnvironment(
            directory: committer.live, passwords: PasswordService(hasher: MailFixture.hasher, pool: pool),
            throttle: LoginThrottle(policy: throttle), recorder: recorder,
            loginRecorder: CommittingLoginRecorder(committer: committer, logger: logger), clock: { clock.now }, isReady: { readiness.isReady },
            recipientDelimiter: recipientDelimiter
        )
        let loopback = ListenAddress.tcp(host: "127.0.0.1", port: 0)
        var configuration = MailAdapterConfiguration(listeners: [
            MailAdapterListener(kind: .socketmap, address: loopback, limits: limits),
            MailAdapterListener(kind: .policy, address: loopback, limits: limits),
            MailAdapterListener(kind: .dovecotAuth, address: loopback, limits: limits),
            MailAdapterListener(kind: .dovecotDict, address: .unix(path: directoryPath + "/dict.sock"), limits: limits),
        ])
        if let milter {
            configuration.listeners.append(MailAdapterListener(kind: .milter(milter), address: loopback, limits: limits))
        }
        for map in tcpTableMaps {
            configuration.listeners.append(MailAdapterListener(kind: .tcpTable(map), address: loopback, limits: limits))
        }
        let (stream, continuation) = AsyncStream.makeStream(of: [MailAdapterServer.BoundListener].self)
        let server = MailAdapterServer(configuration: configuration, environment: environment, logger: logger) { bound in
            continuation.yield(bound)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let task = Task { try await group.run() }
        // A server that stops before it listens ends the wait too, and its error is thrown.
        Task {
            _ = await task.result
            continuation.finish()
        }
        var listeners: [MailAdapterServer.BoundListener] = []
        for await bound in stream { listeners = bound }
        if listeners.isEmpty { try await task.value }
        guard listeners.count == configuration.listeners.count else { throw TestFailure("the mail listeners did not start") }
        return MailTestServer(
            committer: committer, clock: clock, recorder: recorder, readiness: readiness, listeners: listeners,
            directoryPath: directoryPath, group: group, task: task, pool: pool
        )
    }

    /// The TCP port of the listener of `kind`.
    func port(_ kind: MailAdapterKind) throws -> Int {
        for listener in listeners where listener.kind == kind {
            if case .tcp(_, let port) = listener.address { return port }
        }
        throw TestFailure("no TCP listener for \(kind)")
    }

    /// The Unix socket path of the dict listener.
    var dictSocket: String { directoryPath + "/dict.sock" }

    /// Shuts the server down gracefully and waits until it has.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        try await pool.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directoryPath)
    }

    /// Commits `command` at the clock's time.
    func commit(_ command: Command) async throws {
        try await MailFixture.commit(command, on: committer, at: clock.now)
    }
}

/// Whether the directory counts as loaded, as the daemon would set it.
final class Readiness: Sendable {
    private let flag = Atomic<Bool>(true)
    var isReady: Bool { flag.load(ordering: .relaxed) }
    func set(_ ready: Bool) { flag.store(ready, ordering: .relaxed) }
}
