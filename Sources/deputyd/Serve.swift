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
    @Option(help: "Certificate authorities (PEM) for client certificates: a service account whose name is a verified certificate's common name may BIND without a password.") var clientCa: String?
    @Option(help: "Failed logins of one account, within the lockout window, that lock it.") var lockoutFailures = LoginThrottle.Policy().accountFailures
    @Option(help: "Failed logins from one client address, within the lockout window, that lock it.") var lockoutAddressFailures = LoginThrottle.Policy().addressFailures
    @Option(help: "Seconds failures are remembered, and a lock lasts.") var lockoutSeconds = LoginThrottle.Policy().lockout
    @Option(help: "Maximum open connections.") var maxConnections = ServerLimits().maximumConnections
    @Option(help: "Seconds of silence before a connection is closed.") var idleTimeout = ServerLimits().idleTimeout
    @Option(help: "Maximum request line length in bytes before BIND.") var maxLineUnauthenticated = ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication
    @Option(help: "Maximum request line length in bytes after BIND.") var maxLine = ProtocolLimits.defaultMaximumLineLengthAfterAuthentication
    @Option(help: "Maximum pipelined requests read ahead per connection.") var maxPending = ProtocolLimits.defaultMaximumPendingRequests
    @Option(help: "Postfix socketmap listener: HOST:PORT on loopback or a Unix socket path.") var socketmap: String?
    @Option(help: "Postfix tcp_table listener, MAP=ADDRESS (senders, mailboxes, delegates, aliases); repeatable.") var tcpTable: [String] = []
    @Option(help: "Postfix policy service listener: HOST:PORT on loopback or a Unix socket path.") var policy: String?
    @Option(help: "Dovecot auth protocol listener (Postfix SMTP AUTH): HOST:PORT on loopback or a Unix socket path.") var dovecotAuth: String?
    @Option(help: "Dovecot dict listener for the shared-mailbox map: a Unix socket path.") var dovecotDict: String?
    @Option(help: "Maximum connections per mail listener.") var mailMaxConnections = MailAdapterLimits.defaultMaximumConnections
    @Option(help: "Maximum mail request size in bytes.") var mailMaxRequest = MailAdapterLimits.defaultMaximumRequestSize
    @Option(help: "Seconds of silence before a mail connection is closed.") var mailIdleTimeout = MailAdapterLimits.defaultIdleTimeout
    @Option(help: "Write a snapshot after this many journal records.") var snapshotEvery = 10_000
    @Option(help: "Write a snapshot after this many seconds with changes.") var snapshotInterval: Double = 3_600
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "notice"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = OneLineLogHandler(StreamLogHandler.standardError(label: label))
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
        guard lockoutFailures > 0, lockoutAddressFailures > 0, lockoutSeconds > 0 else {
            throw ValidationError("--lockout-failures, --lockout-address-failures and --lockout-seconds must be positive")
        }
        var throttlePolicy = LoginThrottle.Policy()
        throttlePolicy.accountFailures = lockoutFailures
        throttlePolicy.addressFailures = lockoutAddressFailures
        throttlePolicy.window = lockoutSeconds
        throttlePolicy.lockout = lockoutSeconds
        do {
            try server.validate()
        } catch {
            throw ValidationError("\(error)")
        }

        let mailLimits = MailAdapterLimits(maximumConnections: mailMaxConnections, maximumRequestSize: mailMaxRequest, idleTimeout: mailIdleTimeout)
        var mail = MailAdapterConfiguration()
        for (kind, text, flag) in [
            (MailAdapterKind.socketmap, socketmap, "--socketmap"), (.policy, policy, "--policy"),
            (.dovecotAuth, dovecotAuth, "--dovecot-auth"), (.dovecotDict, dovecotDict, "--dovecot-dict"),
        ] {
            guard let text else { continue }
            guard let address = MailAdapterListener.address(text) else { throw ValidationError("\(flag) takes HOST:PORT or a Unix socket path") }
            mail.listeners.append(MailAdapterListener(kind: kind, address: address, limits: mailLimits))
        }
        for text in tcpTable {
            guard let listener = MailAdapterListener.tcpTable(text, limits: mailLimits) else { throw ValidationError("--tcp-table takes MAP=ADDRESS") }
            mail.listeners.append(listener)
        }
        do {
            try mail.validate()
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
        var clientAuthorities: [NIOSSLCertificate] = []
        if let clientCa {
            do {
                clientAuthorities = try NIOSSLCertificate.fromPEMFile(clientCa)
            } catch {
                throw ValidationError("--client-ca \(clientCa): not a PEM file of certificates (\(error))")
            }
            guard !clientAuthorities.isEmpty else { throw ValidationError("--client-ca \(clientCa) holds no certificate") }
        }
        let tls = try NIOSSLContext(configuration: TLSSettings.serverConfiguration(certificate, clientCertificateAuthorities: clientAuthorities))

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
            committer: StoreCommitter(store: store), passwords: passwords, throttle: LoginThrottle(policy: throttlePolicy),
            limits: server.limits.protocolLimits, maximumListing: server.limits.maximumListing
        )
        let daemon = DeputyServer(configuration: server, environment: environment, tls: tls, logger: logger)
        // The store's maintenance comes first so that it stops last, after the listeners.
        var services: [any Service] = [StoreMaintenance(store: store, logger: logger), daemon]
        if !mail.isEmpty {
            let mailLogger = Logger(label: "deputyd.mail")
            let mailEnvironment = MailAdapterEnvironment(
                sharing: environment, recorder: CommittingDelegatedSendRecorder(committer: environment.committer, logger: mailLogger),
                // The directory is recovered before any service starts.
                isReady: { true }
            )
            services.append(MailAdapterServer(configuration: mail, environment: mailEnvironment, logger: mailLogger))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
