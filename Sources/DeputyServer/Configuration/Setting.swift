import DeputyProtocol
import Foundation

/// One setting of `deputyd serve`. Every setting has one name, used three ways: the long
/// flag (`--max-connections`), the key in the configuration file (`"max-connections"`) and,
/// upper-cased with `DEPUTY_` in front, the environment variable (`DEPUTY_MAX_CONNECTIONS`).
/// The first of flag, environment, file and default that gives a value wins.
public enum Setting: String, CaseIterable, Sendable, Comparable {
    case data
    case listen
    case plainListen = "plain-listen"
    case plainSocket = "plain-socket"
    case cert
    case key
    case clientCA = "client-ca"
    case maxConnections = "max-connections"
    case idleTimeout = "idle-timeout"
    case maxLineUnauthenticated = "max-line-unauthenticated"
    case maxLine = "max-line"
    case maxPending = "max-pending"
    case maxListing = "max-listing"
    case lockoutFailures = "lockout-failures"
    case lockoutAddressFailures = "lockout-address-failures"
    case lockoutSeconds = "lockout-seconds"
    case lockoutDelayMax = "lockout-delay-max"
    case socketmap
    case tcpTable = "tcp-table"
    case policy
    case dovecotAuth = "dovecot-auth"
    case dovecotDict = "dovecot-dict"
    case milter
    case milterUnauthenticated = "milter-unauthenticated"
    case recipientDelimiter = "recipient-delimiter"
    case dovecotACL = "dovecot-acl"
    case dovecotACLPrefix = "dovecot-acl-prefix"
    case mailMaxConnections = "mail-max-connections"
    case mailMaxRequest = "mail-max-request"
    case mailIdleTimeout = "mail-idle-timeout"
    case threads
    case hashThreads = "hash-threads"
    case snapshotEvery = "snapshot-every"
    case snapshotInterval = "snapshot-interval"
    case metricsListen = "metrics-listen"
    case logLevel = "log-level"
    case logFormat = "log-format"
    case auditLog = "audit-log"
    case initialPassword = "initial-password"
    case clusterHosts = "cluster-hosts"
    case clusterDatabase = "cluster-database"
    case clusterUser = "cluster-user"
    case clusterPasswordFile = "cluster-password-file"
    case clusterCA = "cluster-ca"
    case clusterNode = "cluster-node"

    /// What a value must look like.
    /// The most seconds a setting of kind ``Kind/seconds`` takes: ten years, far beyond any
    /// timeout or interval, and well inside what a timer counts in milliseconds.
    public static let maximumSeconds: Double = 315_576_000

    public enum Kind: Sendable {
        /// Free text (a path, an address; checked where it is used).
        case text
        /// A whole number of at least 1.
        case count
        /// `auto`, or a whole number (checked where it is used): a JSON number or a string in
        /// the file.
        case autoOrCount
        /// A number of seconds above 0, at most ``Setting/maximumSeconds``.
        case seconds
        /// One of a fixed set of words.
        case choice([String])
        /// Any number of texts: a JSON array in the file, commas in the environment, the
        /// flag repeated on the command line.
        case list
    }

    /// When a change of the setting takes effect.
    public enum Effect: Sendable {
        /// On SIGHUP, for connections opened afterwards.
        case reload
        /// Only when the daemon restarts; a reload that sees it changed warns.
        case restart
    }

    public var name: String { rawValue }

    /// The environment variable: `DEPUTY_` and the name in upper case, `-` as `_`.
    public var environmentName: String {
        "DEPUTY_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public var kind: Kind {
        switch self {
        case .maxConnections, .maxLineUnauthenticated, .maxLine, .maxPending, .maxListing, .lockoutFailures,
             .lockoutAddressFailures, .mailMaxConnections, .mailMaxRequest, .snapshotEvery:
            .count
        case .idleTimeout, .lockoutSeconds, .lockoutDelayMax, .mailIdleTimeout, .snapshotInterval: .seconds
        case .logLevel: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"])
        case .logFormat: .choice(["text", "json"])
        case .milterUnauthenticated: .choice(MilterUnauthenticated.allCases.map(\.rawValue))
        case .tcpTable, .clusterHosts: .list
        case .threads, .hashThreads: .autoOrCount
        default: .text
        }
    }

    public var effect: Effect {
        switch self {
        case .cert, .key, .clientCA, .maxConnections, .idleTimeout, .maxLineUnauthenticated, .maxLine, .maxPending,
             .maxListing, .lockoutFailures, .lockoutAddressFailures, .lockoutSeconds, .lockoutDelayMax, .logLevel:
            .reload
        default: .restart
        }
    }

    /// Printed as `<redacted>` by `--print-config`, and never logged.
    public var isSecret: Bool { self == .initialPassword }

    /// The default, as text; `nil` when the setting is off unless given.
    public var defaultValue: String? {
        switch self {
        case .data: "deputy-data"
        case .listen: "127.0.0.1:\(ServerConfiguration.defaultPort)"
        case .maxConnections: "\(ServerLimits().maximumConnections)"
        case .idleTimeout: Self.number(ServerLimits().idleTimeout)
        case .maxLineUnauthenticated: "\(ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication)"
        case .maxLine: "\(ProtocolLimits.defaultMaximumLineLengthAfterAuthentication)"
        case .maxPending: "\(ProtocolLimits.defaultMaximumPendingRequests)"
        case .maxListing: "\(ServerLimits().maximumListing)"
        case .lockoutFailures: "\(LoginThrottle.Policy().accountFailures)"
        case .lockoutAddressFailures: "\(LoginThrottle.Policy().addressFailures)"
        case .lockoutSeconds: Self.number(LoginThrottle.Policy().lockout)
        case .lockoutDelayMax: Self.number(LoginThrottle.Policy().maximumDelay)
        case .mailMaxConnections: "\(MailAdapterLimits.defaultMaximumConnections)"
        case .mailMaxRequest: "\(MailAdapterLimits.defaultMaximumRequestSize)"
        case .mailIdleTimeout: Self.number(MailAdapterLimits.defaultIdleTimeout)
        case .threads, .hashThreads: "auto"
        case .snapshotEvery: "10000"
        case .snapshotInterval: "3600"
        case .logLevel: "notice"
        case .logFormat: "text"
        case .dovecotACLPrefix: "shared/"
        case .milterUnauthenticated: MilterUnauthenticated.accept.rawValue
        case .clusterDatabase, .clusterUser: "deputy"
        default: nil
        }
    }

    /// One line of help, for `deputyd serve --help` and docs/configuration.md.
    public var help: String {
        switch self {
        case .data: "The data directory."
        case .listen: "TLS listener, HOST:PORT."
        case .plainListen: "Plaintext listener for netcat and local mail servers, HOST:PORT on a loopback address."
        case .plainSocket: "Plaintext listener on a Unix socket."
        case .cert: "TLS certificate chain (PEM). Without it, a self-signed certificate is generated in the data directory."
        case .key: "TLS private key (PEM)."
        case .clientCA: "Certificate authorities (PEM) for client certificates: a service account whose name is a verified certificate's common name may BIND without a password."
        case .maxConnections: "Maximum open connections."
        case .idleTimeout: "Seconds of silence before a connection is closed."
        case .maxLineUnauthenticated: "Maximum request line length in bytes before BIND."
        case .maxLine: "Maximum request line length in bytes after BIND."
        case .maxPending: "Maximum pipelined requests read ahead per connection."
        case .maxListing: "The most records one AUDIT, SEARCH or DELEGATIONS reply holds."
        case .lockoutFailures: "Failed logins of one account from one client address, within the lockout window, that lock the account from that address; twice as many from anywhere start the account's delay for addresses it has not succeeded from."
        case .lockoutAddressFailures: "Failed logins from one client address, within the lockout window, that lock it."
        case .lockoutSeconds: "Seconds failures are remembered, and a lock lasts."
        case .lockoutDelayMax: "The longest wait, in seconds, between two checked logins of one account from addresses it has not succeeded from, once it is under attack (the wait starts at 1 s and doubles with each failure)."
        case .socketmap: "Postfix socketmap listener: HOST:PORT on loopback or a Unix socket path."
        case .tcpTable: "Postfix tcp_table listener, MAP=ADDRESS (senders, mailboxes, delegates, aliases); repeatable."
        case .policy: "Postfix policy service listener: HOST:PORT on loopback or a Unix socket path."
        case .dovecotAuth: "Dovecot auth protocol listener (Postfix SMTP AUTH): HOST:PORT on loopback or a Unix socket path."
        case .dovecotDict: "Dovecot dict listener for the shared-mailbox map: a Unix socket path."
        case .milter: "Milter listener (Postfix smtpd_milters) that checks From: and Sender: against the login's rights: HOST:PORT on loopback or a Unix socket path."
        case .milterUnauthenticated: "What the milter does with mail sent without SMTP AUTH: accept (leave it alone) or reject (refuse a From: address of the organisation)."
        case .recipientDelimiter: "Postfix's recipient_delimiter (for example +), when address extensions are in use: the mail listeners read alice+lists@ as alice@ where the directory has no alice+lists@. Set it to what main.cf says."
        case .dovecotACL: "Dovecot's global ACL file for shared mailboxes, kept in step with the delegations (mode 0640, for Dovecot's mail_access_groups)."
        case .dovecotACLPrefix: "The prefix of Dovecot's shared namespace before the owner's login (prefix = shared/%%u/ gives shared/)."
        case .mailMaxConnections: "Maximum connections per mail listener."
        case .mailMaxRequest: "Maximum mail request size in bytes."
        case .mailIdleTimeout: "Seconds of silence before a mail connection is closed; a milter connection waits at least 7,210 s and a Dovecot auth connection at least a day, as Postfix keeps both silent on purpose."
        case .threads: "Event-loop threads answering connections: auto (the CPUs the process may use: its affinity mask, capped by its cgroup CPU quota) or a number."
        case .hashThreads: "Threads hashing passwords for BIND and PASSWD: auto (as threads) or a number."
        case .snapshotEvery: "Write a snapshot after this many journal records."
        case .snapshotInterval: "Write a snapshot after this many seconds with changes."
        case .metricsListen: "HTTP listener for /metrics, /livez and /readyz, HOST:PORT on a loopback address."
        case .logLevel: "Log level: trace, debug, info, notice, warning, error, critical."
        case .logFormat: "Log format: text (one line per record) or json (one JSON object per line)."
        case .auditLog: "Also append every audit record, as a JSON line, to this file (0600)."
        case .initialPassword: "The super administrator's password when the daemon creates the organisation on its first start; random (written to the data directory) without it."
        case .clusterHosts: "Cluster mode: the PostgreSQL servers holding the shared log, HOST or HOST:PORT, by the name their certificates carry; repeatable. Without it, the data directory alone holds the directory."
        case .clusterDatabase: "Cluster mode: the PostgreSQL database."
        case .clusterUser: "Cluster mode: the PostgreSQL user."
        case .clusterPasswordFile: "Cluster mode: a file (0600) holding the PostgreSQL user's password."
        case .clusterCA: "Cluster mode: certificate authorities (PEM) for the PostgreSQL servers' certificates; the system's without it."
        case .clusterNode: "Cluster mode: this node's name in the shared log; the host name without it."
        }
    }

    public static func < (lhs: Setting, rhs: Setting) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
