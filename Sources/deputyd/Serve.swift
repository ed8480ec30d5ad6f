import ArgumentParser
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `deputyd serve`: run the daemon.
///
/// Every setting comes from the first of: its flag, its `DEPUTY_*` environment variable,
/// the configuration file (`--config` or `DEPUTY_CONFIG`), its default.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")

    @OptionGroup var settings: SettingOptions
    @Flag(help: "Print the effective configuration, secrets redacted, with where each setting came from; then exit.") var printConfig = false

    func run() async throws {
        let processEnvironment = ProcessInfo.processInfo.environment
        let initial = try settings.resolve(environment: processEnvironment)
        if printConfig {
            print(initial.printed(), terminator: "")
            return
        }
        let levels = LogLevelControl(initial.logLevel)
        DaemonLogging.bootstrap(format: initial.logFormat, levels: levels)
        let logger = Logger(label: "deputyd")
        for name in SettingValues.unknownEnvironmentNames(in: processEnvironment) {
            logger.warning("ignoring an environment variable that names no setting", metadata: ["env": "\(name)"])
        }
        do {
            try await serve(initial, levels: levels, logger: logger)
        } catch {
            StartupFailure(error).log(to: logger)
            throw ExitCode.failure
        }
    }

    private func serve(_ initial: DaemonSettings, levels: LogLevelControl, logger: Logger) async throws {
        // The data directory's lock comes first: a second daemon on it stops here, before
        // it reads, writes or binds anything. A directory that does not exist yet is
        // created (and locked) only once every address is known to be free.
        var lock = FileManager.default.fileExists(atPath: initial.data) ? try DataDirectoryLock.acquire(path: initial.data) : nil
        try await ListenerProbe.check(initial.listenAddresses)
        // What is configured outside the data directory is read before it is created: a
        // certificate file that is not there stops the daemon with nothing made.
        let configuredTLS = initial.certificate == nil && initial.key == nil ? nil : try DaemonTLS.load(initial, logger: logger)
        let audit = try initial.auditLog.map { try AuditFileWriter(path: $0, logger: Logger(label: "deputyd.audit")) }
        if lock == nil { lock = try DataDirectoryLock.acquire(path: initial.data) }

        DaemonDescriptors.ensure(server: initial.server.limits, mail: initial.mail, logger: logger)
        let registry = DaemonMetrics.bootstrap()
        let readiness = ServiceReadiness()
        let notifier = SystemdNotifier()
        let running = Mutex<Store?>(nil)

        // Health first, so that liveness answers while a large directory is recovered.
        var health: HealthServer?
        if let address = initial.metricsListen {
            health = try await HealthServer(
                address: address, registry: registry, readiness: readiness,
                beforeScrape: { await DaemonMetrics.refresh(store: running.withLock { $0 }) }, logger: logger
            )
        }
        let healthTask = health.map { server in Task { await server.run() } }
        defer { healthTask?.cancel() }

        // The data directory's store, or in cluster mode the shared log (docs/cluster.md).
        let backend = try await DirectoryBackend.open(initial, lock: lock!, logger: logger)
        running.withLock { $0 = backend.store }
        if let store = backend.store {
            readiness.watchStorage { await store.isFailed ? "the journal could not be written; changes are refused until a restart (see the log)" : nil }
        }
        // Without a configured certificate, the data directory's own (made on first start).
        let tls = try configuredTLS ?? DaemonTLS.load(initial, logger: logger)

        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let passwords = PasswordService(hasher: .standard, pool: pool)
        let loaded = backend.store.flatMap { $0.directory.organization == nil ? nil : StartupLine.Loaded($0) }
        if let store = backend.store, loaded == nil {
            try await FirstStart.createOrganization(
                in: store, name: FirstStart.organization, domain: DomainName(FirstStart.domain)!,
                superAdministrator: EmailAddress(FirstStart.superAdministrator)!, password: initial.initialPassword, dataDirectory: initial.data,
                passwords: passwords, logger: logger
            )
        }
        await audit?.catchUp(with: backend.live.directory.auditLog)
        let throttle = LoginThrottle(policy: initial.throttle)
        let environment = SessionEnvironment(
            committer: backend.committer(audit: audit), passwords: passwords, throttle: throttle,
            limits: initial.server.limits.protocolLimits, maximumListing: initial.server.limits.maximumListing
        )
        let metricsAddress = health?.address
        let daemon = DeputyServer(configuration: initial.server, environment: environment, tls: tls, logger: logger) { bound in
            logger.notice("\(StartupLine(settings: initial, listeners: bound, metrics: metricsAddress, loaded: loaded))")
            readiness.markListening()
            DaemonNotifications.send({ try notifier.ready() }, logger: logger)
        }
        // The store's maintenance comes first so that it stops last, after the listeners.
        var services: [any Service] = [backend.maintenance(logger: logger), daemon]
        if !initial.mail.isEmpty {
            let mailLogger = Logger(label: "deputyd.mail")
            let mailEnvironment = MailAdapterEnvironment(
                sharing: environment, recorder: CommittingDelegatedSendRecorder(committer: environment.committer, logger: mailLogger),
                // The directory is recovered before any service starts.
                isReady: { true }
            )
            services.append(MailAdapterServer(configuration: initial.mail, environment: mailEnvironment, logger: mailLogger))
        }
        if let path = initial.dovecotACL {
            // Written before anyone is served: Dovecot denies shared mailboxes for the life of
            // a session that started while the file was missing.
            let writer = DovecotACLWriter(path: path, prefix: initial.dovecotACLPrefix, directory: environment.committer.live, logger: Logger(label: "deputyd.dovecot-acl"))
            do {
                try await writer.update()
            } catch {
                throw ValidationError("the Dovecot ACL file \(path) can't be written: \(error)")
            }
            services.append(writer)
        }
        let reloader = ConfigurationReloader(
            options: settings, running: initial, daemon: daemon, throttle: throttle, levels: levels, notifier: notifier, logger: logger
        )
        services.append(reloader)
        // The reloader comes last so that it stops first, telling systemd the daemon is stopping.
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
