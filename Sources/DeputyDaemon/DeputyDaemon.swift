import DeputyCore
import DeputyMailAdapters
import DeputyServer
import DeputyStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The whole daemon, wired in one place: the store and its committer, the protocol's
/// listeners, the mail adapters, Dovecot's ACL file, health and metrics, and the reloader,
/// each a `Service` of one `ServiceGroup`.
///
/// `deputyd serve`, the in-process test servers and `deputy-bench` all build the daemon
/// here, so what the tests exercise is the durable write path users run.
///
/// ```swift
/// let daemon = try await DeputyDaemon.build(settings: settings, options: DeputyDaemon.Options(), logger: logger)
/// try await daemon.run()    // until SIGTERM, or triggerGracefulShutdown()
/// ```
public final class DeputyDaemon: Sendable {
    /// What a caller other than `deputyd` may choose: the clock, the password hash's cost,
    /// the signals that stop the daemon, and who hears of the bound listeners.
    public struct Options: Sendable {
        /// The time; tests set their own.
        public var clock: @Sendable () -> Date = { Date() }
        /// How new passwords are hashed; tests use a cheap cost.
        public var hasher: PasswordHasher = .standard
        /// The signals that start a graceful shutdown; none in tests.
        public var shutdownSignals: [UnixSignal] = [.sigterm, .sigint]
        /// Reads the settings again on SIGHUP; `nil` disables reloading.
        public var reloadSettings: (@Sendable () throws -> DaemonSettings)?
        /// SIGHUP, trapped by the caller before it read the settings, so that a hang-up while
        /// the daemon starts is a reload once it serves rather than the signal's default,
        /// which ends the process. `nil`: trapped when the daemon is about to serve.
        public var hangups: UnixSignalsSequence?
        /// The level control the logging system was bootstrapped with, for SIGHUP.
        public var logLevels: LogLevelControl?
        /// The registry `/metrics` serves; `nil` serves none even where the settings ask.
        public var metricsRegistry: PrometheusCollectorRegistry?
        /// Hears of the protocol's bound listeners, once, when they listen.
        public var onListening: @Sendable ([DeputyServer.BoundListener]) -> Void = { _ in }
        /// Random bytes for TOTP secrets and recovery codes; tests make them repeatable.
        public var factorRandomness: @Sendable (Int) -> [UInt8] = FactorRandomness.system
        /// Hears of the mail listeners, once, when they listen.
        public var onMailListening: @Sendable ([MailAdapterServer.BoundListener]) -> Void = { _ in }

        public init() {}
    }

    /// The single writer of the directory, and through it the published directory.
    public let committer: any DirectoryCommitter
    /// The protocol's server.
    public let server: DeputyServer
    /// The services, in the order they start; they stop in reverse.
    public let services: [any Service]
    private let group: ServiceGroup
    private let pool: NIOThreadPool

    private init(committer: any DirectoryCommitter, server: DeputyServer, services: [any Service], group: ServiceGroup, pool: NIOThreadPool) {
        self.committer = committer
        self.server = server
        self.services = services
        self.group = group
        self.pool = pool
    }

    /// What `deputyd serve` runs: the metrics and health listener first, answering `/livez`
    /// while a large directory is recovered (and `/readyz` 503 until it listens), then the
    /// daemon, until a shutdown signal.
    public static func serve(settings: DaemonSettings, options: Options, logger: Logger) async throws {
        let readiness = ServiceReadiness()
        let store = Mutex<Store?>(nil)
        var health: HealthServer?
        if let address = settings.metricsListen, let registry = options.metricsRegistry {
            health = try await HealthServer(
                address: address, registry: registry, readiness: readiness,
                beforeScrape: { await DaemonMetrics.refresh(store: store.withLock { $0 }) }, logger: logger
            )
        }
        try await withThrowingDiscardingTaskGroup { group in
            if let health { group.addTask { await health.run() } }
            let daemon = try await build(settings: settings, options: options, readiness: readiness, metrics: health?.address, logger: logger) {
                opened in store.withLock { $0 = opened }
            }
            try await daemon.run()
            group.cancelAll()
        }
    }

    /// Runs every service until a shutdown signal or ``triggerGracefulShutdown()``.
    public func run() async throws {
        defer { pool.shutdownGracefully { _ in } }
        try await group.run()
    }

    /// Stops the daemon as SIGTERM does: no new connections, requests in hand finished.
    public func triggerGracefulShutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Opens the data directory (locked for the daemon's life), recovers the directory,
    /// creates the organisation on a first start, and makes every service; nothing is served
    /// until ``run()``.
    ///
    /// The checks that can fail without changing anything come first: the lock, the
    /// listening addresses, the configured certificate and audit file. An empty data
    /// directory is created only once they pass.
    public static func build(
        settings initial: DaemonSettings, options: Options, readiness: ServiceReadiness = ServiceReadiness(), metrics: ListenAddress? = nil,
        logger: Logger, opened: @Sendable (Store) -> Void = { _ in }
    ) async throws -> DeputyDaemon {
        var lock = FileManager.default.fileExists(atPath: initial.data) ? try DataDirectoryLock.acquire(path: initial.data) : nil
        // The health listener, when given (`metrics`), is the daemon's own and already open.
        try await ListenerProbe.check(initial.listenAddresses, held: metrics == nil ? nil : initial.metricsListen)
        let configuredTLS = initial.certificate == nil && initial.key == nil ? nil : try DaemonTLS.load(initial, logger: logger)
        let audit = try initial.auditLog.map {
            try AuditFileWriter(path: $0, position: initial.data + "/audit-log.position", logger: Logger(label: "deputyd.audit"))
        }
        if lock == nil { lock = try DataDirectoryLock.acquire(path: initial.data) }
        // A cluster node needs the cluster's factor key before it reaches the database: it
        // would otherwise seal and open second factors with a key no other node has.
        let clusterFactorBox = try initial.cluster.map { _ in try DataFiles.factorBox(dataDirectory: initial.data, creating: false) }

        DaemonDescriptors.ensure(server: initial.server.limits, mail: initial.mail, threads: initial.threads, logger: logger)
        let notifier = SystemdNotifier()

        // The data directory's store, or in cluster mode the shared log in PostgreSQL
        // followed by this node (docs/cluster.md).
        let backend = try await DirectoryBackend.open(initial, lock: lock!, logger: logger)
        if let store = backend.store { opened(store) }
        readiness.watchStorage(backend.failureCheck)
        // Without a configured certificate, the data directory's own (made on first start).
        let tls = try configuredTLS ?? DaemonTLS.load(initial, logger: logger)

        let pool = NIOThreadPool(numberOfThreads: initial.hashThreads)
        pool.start()
        let passwords = PasswordService(hasher: options.hasher, pool: pool)
        let loaded = backend.loaded
        if let store = backend.store, loaded == nil {
            try await FirstStart.createOrganization(
                in: store, name: FirstStart.organization, domain: DomainName(FirstStart.domain)!,
                superAdministrator: EmailAddress(FirstStart.superAdministrator)!, password: initial.initialPassword, dataDirectory: initial.data,
                passwords: passwords, time: options.clock(), logger: logger
            )
        }
        await audit?.catchUp(with: backend.live.directory.auditLog)
        let throttle = LoginThrottle(policy: initial.throttle)
        let keyFile = (initial.data as NSString).appendingPathComponent(DataFiles.factorKey)
        let keyExisted = FileManager.default.fileExists(atPath: keyFile)
        let factorBox = try clusterFactorBox ?? DataFiles.factorBox(dataDirectory: initial.data)
        FactorKeyCheck(box: factorBox, directory: backend.live.directory).report(keyFile: keyFile, made: !keyExisted, logger: logger)
        let committer = backend.committer(audit: audit)
        let environment = SessionEnvironment(
            committer: committer, passwords: passwords, throttle: throttle, clock: options.clock,
            limits: initial.server.limits.protocolLimits, maximumListing: initial.server.limits.maximumListing,
            factorBox: factorBox, randomBytes: options.factorRandomness
        )
        let metricsAddress = metrics
        let onListening = options.onListening
        let server = DeputyServer(configuration: initial.server, environment: environment, tls: tls, logger: logger) { bound in
            logger.notice("\(StartupLine(settings: initial, listeners: bound, metrics: metricsAddress, loaded: loaded))")
            readiness.markListening()
            DaemonNotifications.send({ try notifier.ready() }, logger: logger)
            onListening(bound)
        }
        // The store's maintenance (or the cluster node) first, so that it stops last, after
        // the listeners.
        var services: [any Service] = [backend.maintenance(logger: logger), server]
        if let audit, backend.store == nil {
            // Cluster mode: most records come from the other nodes' changes.
            services.append(AuditFileFollower(audit: audit, live: backend.live))
        }
        if !initial.mail.isEmpty {
            let mailLogger = Logger(label: "deputyd.mail")
            // The delegated-send audit: queued while changes are refused (cluster mode with
            // PostgreSQL away) and written once they are accepted again. Before the mail
            // listeners in the group, so it stops after them.
            let recorder = CommittingDelegatedSendRecorder(committer: committer, logger: mailLogger)
            services.append(recorder)
            let mailEnvironment = MailAdapterEnvironment(
                sharing: environment, recorder: recorder,
                // The directory is recovered before any service starts.
                isReady: { true }, recipientDelimiter: initial.mail.recipientDelimiter
            )
            services.append(MailAdapterServer(configuration: initial.mail, environment: mailEnvironment, logger: mailLogger, onListening: options.onMailListening))
        }
        if let path = initial.dovecotACL {
            // Written before anyone is served: Dovecot denies shared mailboxes for the life of
            // a session that started while the file was missing.
            let writer = DovecotACLWriter(
                path: path, prefix: initial.dovecotACLPrefix, directory: committer.live, clock: options.clock,
                logger: Logger(label: "deputyd.dovecot-acl")
            )
            do {
                try await writer.update()
            } catch {
                throw ConfigurationError("the Dovecot ACL file \(path) can't be written: \(error)")
            }
            services.append(writer)
        }
        // The reloader comes last so that it stops first, telling systemd and /readyz that the
        // daemon is stopping.
        services.append(ConfigurationReloader(
            reload: options.reloadSettings, hangups: options.hangups, running: initial, daemon: server, throttle: throttle,
            levels: options.logLevels, notifier: notifier, readiness: readiness, logger: logger
        ))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: options.shutdownSignals, logger: logger)
        return DeputyDaemon(committer: committer, server: server, services: services, group: group, pool: pool)
    }
}
