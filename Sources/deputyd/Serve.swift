import ArgumentParser
import DeputyCore
import DeputyProtocol
import DeputyServer
import DeputyStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// `deputyd serve`: run the daemon.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")

    @Option(help: "The data directory.") var data = "deputy-data"
    @Option(help: "TLS listener, HOST:PORT.") var listen = "127.0.0.1:\(ServerConfiguration.defaultPort)"
    @Option(help: "Plaintext listener for netcat and local mail servers, HOST:PORT on a loopback address.") var plainListen: String?
    @Option(help: "Plaintext listener on a Unix socket.") var plainSocket: String?
    @Option(help: "TLS certificate chain (PEM). Without it, a self-signed certificate is generated in the data directory.") var cert: String?
    @Option(help: "TLS private key (PEM).") var key: String?
    @Option(help: "Maximum open connections.") var maxConnections = ServerLimits().maximumConnections
    @Option(help: "Seconds of silence before a connection is closed.") var idleTimeout = ServerLimits().idleTimeout
    @Option(help: "Maximum request line length in bytes before BIND.") var maxLineUnauthenticated = ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication
    @Option(help: "Maximum request line length in bytes after BIND.") var maxLine = ProtocolLimits.defaultMaximumLineLengthAfterAuthentication
    @Option(help: "Maximum pipelined requests read ahead per connection.") var maxPending = ProtocolLimits.defaultMaximumPendingRequests
    @Option(help: "Write a snapshot after this many journal records.") var snapshotEvery = 10_000
    @Option(help: "Write a snapshot after this many seconds with changes.") var snapshotInterval: Double = 3_600
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "notice"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "deputyd")

        var server = ServerConfiguration()
        guard let address = ListenAddress(hostAndPort: listen) else { throw ValidationError("--listen takes HOST:PORT") }
        server.listen = address
        if let plainListen {
            guard let plain = ListenAddress(hostAndPort: plainListen) else { throw ValidationError("--plain-listen takes HOST:PORT") }
            server.plainListen = plain
        }
        server.plainSocket = plainSocket
        server.limits.maximumConnections = maxConnections
        server.limits.idleTimeout = idleTimeout
        server.limits.protocolLimits.maximumLineLengthBeforeAuthentication = maxLineUnauthenticated
        server.limits.protocolLimits.maximumLineLengthAfterAuthentication = maxLine
        server.limits.protocolLimits.maximumPendingRequests = maxPending
        do {
            try server.validate()
        } catch {
            throw ValidationError("\(error)")
        }

        // The store creates the data directory (0700) and refuses to start when it or any
        // file in it is open to group or others.
        let store: Store
        do {
            store = try await Store.open(
                path: data, configuration: StoreConfiguration(snapshotEveryRecords: snapshotEvery, snapshotEverySeconds: snapshotInterval),
                logger: Logger(label: "deputyd.store")
            )
        } catch {
            throw ValidationError("\(error)")
        }
        let certificate = try DataFiles.certificate(dataDirectory: data, certificatePath: cert, keyPath: key, logger: logger)
        let tls = try NIOSSLContext(configuration: TLSSettings.serverConfiguration(certificate))

        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let passwords = PasswordService(hasher: .standard, pool: pool)
        if store.directory.organization == nil {
            try await FirstStart.createOrganization(
                in: store, name: FirstStart.organization, domain: DomainName(FirstStart.domain)!,
                superAdministrator: EmailAddress(FirstStart.superAdministrator)!, password: nil, dataDirectory: data,
                passwords: passwords, logger: logger
            )
        }
        let environment = SessionEnvironment(
            committer: StoreCommitter(store: store), passwords: passwords, throttle: LoginThrottle(),
            limits: server.limits.protocolLimits, maximumListing: server.limits.maximumListing
        )
        let daemon = DeputyServer(configuration: server, environment: environment, tls: tls, logger: logger)
        // The store's maintenance comes first so that it stops last, after the listeners.
        let services: [any Service] = [StoreMaintenance(store: store, logger: logger), daemon]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
