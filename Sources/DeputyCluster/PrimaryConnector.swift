import DeputyStore
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// Opens connections to the PostgreSQL primary among the configured servers.
///
/// postgres-nio takes one host per connection, so this does what libpq's
/// `target_session_attrs=read-write` does: it connects to each server in turn and keeps the
/// one that answers `pg_is_in_recovery() = false`. Two such servers would be a split brain:
/// both are refused. Every connection uses TLS 1.2 or newer with the certificate and the
/// host name verified, and a SCRAM password.
struct PrimaryConnector: Sendable {
    let settings: ClusterSettings
    let logger: Logger
    private let tls: NIOSSLContext
    private let ids = IDSource()
    private let unreachable = UnreachableHosts()
    private let primaries = SeveralPrimaries()

    init(settings: ClusterSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let authorities = settings.certificateAuthorities {
            // NIOSSL only looks whether the path exists before BoringSSL reads it, so a file
            // this user may not read would be reported as one that holds no certificate.
            let descriptor = open(authorities, O_RDONLY)
            guard descriptor >= 0 else {
                throw ClusterError(.incompatible, "the database TLS settings can't be used: cluster-ca \(authorities): \(StorageFileSystemError.explanation(errno))")
            }
            close(descriptor)
            configuration.trustRoots = .file(authorities)
        }
        do {
            tls = try NIOSSLContext(configuration: configuration)
        } catch {
            // NIOSSL's error names no file: say which one, and what is wrong with it.
            let source = settings.certificateAuthorities.map { "cluster-ca \($0)" } ?? "the system's trusted certificates"
            throw ClusterError(.incompatible, "the database TLS settings can't be used: \(source): \(Self.describeTLSError(error))")
        }
    }

    /// NIOSSL's errors about the trusted certificates in words an operator can act on.
    static func describeTLSError(_ error: any Error) -> String {
        if error is BoringSSLError { return "no PEM certificate could be read from it" }
        switch error as? NIOSSLError {
        case .noSuchFilesystemObject: return "no such file or directory"
        case .failedToLoadCertificate: return "no PEM certificate could be read from it"
        default: return "\(error)"
        }
    }

    /// How PostgreSQL's `pg_stat_activity` names a node's connection made for `purpose`.
    static func applicationName(node: String, purpose: Purpose) -> String {
        "deputyd-\(node)-\(purpose.rawValue)"
    }

    /// A connection to `endpoint`, with this node's session settings.
    func connect(_ endpoint: ClusterSettings.Endpoint, purpose: Purpose) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: settings.user, password: settings.password,
            database: settings.database, tls: .require(tls)
        )
        configuration.options.connectTimeout = .milliseconds(settings.connectTimeout.milliseconds)
        configuration.options.additionalStartupParameters = [
            ("application_name", Self.applicationName(node: settings.nodeName, purpose: purpose)),
            // A queued append gives up after lock_timeout, cleanly rolled back; an append
            // already committing is never interrupted by a statement timeout.
            ("lock_timeout", "\(settings.lockTimeout.milliseconds)"),
        ]
        if !purpose.needsDurableCommits {
            // The applier only reads, and writes its progress report: nothing it commits
            // needs the standby, and it must never wait for one.
            configuration.options.additionalStartupParameters.append(("synchronous_commit", "local"))
        }
        return try await PostgresConnection.connect(configuration: configuration, id: ids.next(), logger: logger)
    }

    /// A connection to the one primary, or an error naming what each server answered.
    func connectToPrimary(purpose: Purpose) async throws -> PostgresConnection {
        try await findPrimary(purpose: purpose).connection
    }

    /// A connection to the one primary, and what every configured server answered; an
    /// error naming those answers when there is no primary, or more than one.
    func findPrimary(purpose: Purpose) async throws -> (connection: PostgresConnection, hosts: [ClusterHostState]) {
        let (found, hosts) = await lookForPrimary(purpose: purpose)
        return (try found.get(), hosts)
    }

    /// ``findPrimary(purpose:)`` with what every configured server answered kept beside
    /// the failure too, for a report that shows them when there is no one primary.
    func lookForPrimary(purpose: Purpose) async -> (Result<PostgresConnection, ClusterError>, hosts: [ClusterHostState]) {
        let (primaries, hosts) = await survey(purpose: purpose)
        report(hosts)
        if primaries.count == 1 { return (.success(primaries[0].0), hosts) }
        for (connection, _) in primaries { try? await connection.close() }
        if primaries.isEmpty {
            return (.failure(ClusterError(.unavailable, "no PostgreSQL primary reachable (\(hosts.map(\.description).joined(separator: "; ")))")), hosts)
        }
        return (.failure(ClusterError.severalPrimaries(primaries.map(\.1))), hosts)
    }

    /// Asks every configured server whether it answers and what it is, keeping no
    /// connection. A running node does this every ``ClusterSettings/hostCheckInterval``, and
    /// then ``report(_:)``s what it found, as a look for the primary does.
    func surveyHosts() async -> [ClusterHostState] {
        let (primaries, hosts) = await survey(purpose: .probe)
        for (connection, _) in primaries { try? await connection.close() }
        return hosts
    }

    /// The servers that could not be reached at the last look.
    var unreachableEndpoints: Set<ClusterSettings.Endpoint> { unreachable.current }

    /// The servers that answered as primaries at the last look.
    var primaryEndpoints: [ClusterSettings.Endpoint] { primaries.current }

    /// Connects to every configured server in turn: the connections to those that are
    /// primaries (to be kept or closed by the caller), and what each server answered.
    private func survey(purpose: Purpose) async -> (primaries: [(PostgresConnection, ClusterSettings.Endpoint)], hosts: [ClusterHostState]) {
        var primaries: [(PostgresConnection, ClusterSettings.Endpoint)] = []
        var hosts: [ClusterHostState] = []
        for endpoint in settings.endpoints {
            do {
                let connection = try await connect(endpoint, purpose: purpose)
                let logger = logger
                let recovery: Bool
                do {
                    recovery = try await withDeadline(settings.connectTimeout, "asking \(endpoint) whether it is a standby", on: connection) {
                        try await connection.isInRecovery(logger: logger)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                if recovery {
                    hosts.append(ClusterHostState(endpoint: endpoint, role: .standby))
                    try? await connection.close()
                } else {
                    hosts.append(ClusterHostState(endpoint: endpoint, role: .primary))
                    primaries.append((connection, endpoint))
                }
            } catch {
                hosts.append(ClusterHostState(endpoint: endpoint, role: .unreachable(Self.describe(error))))
            }
        }
        return (primaries, hosts)
    }

    /// The metrics, and a warning or a notice when the servers that can't be reached
    /// changed since the last look; an error when more than one server answers as primary,
    /// and a notice when that is over.
    func report(_ hosts: [ClusterHostState]) {
        switch primaries.update(hosts) {
        case .appeared(let endpoints)?:
            logger.error(
                "more than one PostgreSQL server answers as the primary: a standby was promoted while the old primary runs; writes are refused until one is fenced",
                metadata: ["cluster.primaries": "\(endpoints.map(\.description).joined(separator: ", "))"]
            )
        case .resolved?:
            logger.notice("one PostgreSQL server answers as the primary again")
        case nil:
            break
        }
        ClusterMetrics.primaries.record(primaries.current.count)
        let change = unreachable.update(hosts)
        ClusterMetrics.unreachableHosts.record(unreachable.current.count)
        switch change {
        case .unreachable(let down)?:
            logger.warning(
                "a configured PostgreSQL server can't be reached: if the primary fails, this node can't follow a standby there",
                metadata: ["cluster.unreachable": "\(down.map(\.description).joined(separator: "; "))"]
            )
        case .allReachable?:
            logger.notice("every configured PostgreSQL server answers again")
        case nil:
            break
        }
    }

    /// What a connection is for: its name in `pg_stat_activity`, and whether its commits
    /// wait for the synchronous standby.
    enum Purpose: String, Sendable {
        case append, apply, snapshot, bootstrap, probe, initialize = "init"

        /// Whether its commits must wait for the synchronous standby: not for the applier,
        /// which only reads and reports its progress, nor for a probe, which commits nothing.
        var needsDurableCommits: Bool { self != .apply && self != .probe }
    }

    /// A short account of a connection or query error, without the query's parameters.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
            }
            if let underlying = error.underlying { return "\(error.code): \(describeUnderlying(underlying))" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// A connection failure in a few words: `connection refused (errno 111)` rather than
    /// NIO's nested account of every address tried.
    private static func describeUnderlying(_ error: any Error) -> String {
        // postgres-nio wraps the error that ended a connection in the one it gives each
        // query still waiting there; printed as it is, that says only "Generic description".
        if let nested = error as? PSQLError { return describe(nested) }
        if let failure = error as? NIOConnectionError {
            if let first = failure.connectionErrors.first { return describeUnderlying(first.error) }
            if let lookup = failure.dnsAError ?? failure.dnsAAAAError { return "\(failure.host) could not be resolved: \(lookup)" }
        }
        if let io = error as? IOError {
            return "\(String(cString: strerror(io.errnoCode)).lowercased()) (errno \(io.errnoCode))"
        }
        if case .handshakeFailed(let failure)? = error as? NIOSSLError {
            return "the TLS handshake failed: \(describeHandshake(failure))"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the TLS handshake failed: the server's certificate does not name the host in cluster-hosts"
        }
        return "\(error)"
    }

    /// BoringSSL's reasons (`...:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at FILE:LINE`) in
    /// words, without the source file's path of the library's build.
    private static func describeHandshake(_ failure: BoringSSLError) -> String {
        let reasons = "\(failure)".matches(of: /OPENSSL_internal:([A-Z0-9_]+)/).map { String($0.1) }
        if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate does not verify against cluster-ca"
        }
        return reasons.isEmpty ? "\(failure)" : reasons.map { $0.lowercased().replacingOccurrences(of: "_", with: " ") }.joined(separator: "; ")
    }

    /// Connection ids for postgres-nio's log metadata.
    private final class IDSource: Sendable {
        private let counter = Mutex(0)
        func next() -> Int { counter.withLock { $0 += 1; return $0 } }
    }
}

extension ClusterSettings {
    /// Loads what a node loads before its first connection (the trusted certificates for
    /// PostgreSQL), and throws what a start would throw: for `deputyd check-config`.
    public func checkFiles() throws {
        _ = try PrimaryConnector(settings: self, logger: Logger(label: "deputyd.cluster"))
    }
}
