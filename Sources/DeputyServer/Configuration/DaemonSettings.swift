import DeputyProtocol
import Foundation
import Logging

/// Everything `deputyd serve` runs with, checked and typed, from ``SettingValues``.
public struct DaemonSettings: Sendable, CustomStringConvertible {
    /// How log records are written.
    public enum LogFormat: String, Sendable {
        /// One line per record, for people and journald.
        case text
        /// One JSON object per line, for log shippers.
        case json
    }

    public var values: SettingValues
    public var data: String
    public var server: ServerConfiguration
    public var throttle: LoginThrottle.Policy
    public var certificate: String?
    public var key: String?
    public var clientCertificateAuthorities: String?
    public var mail: MailAdapterConfiguration
    /// Dovecot's global ACL file, when deputyd keeps one.
    public var dovecotACL: String?
    /// The shared namespace's prefix before the owner's login.
    public var dovecotACLPrefix: String
    /// Event-loop threads: the usable CPUs unless set.
    public var threads: Int
    /// Password-hashing threads: the usable CPUs unless set.
    public var hashThreads: Int
    public var snapshotEvery: Int
    public var snapshotInterval: TimeInterval
    public var metricsListen: ListenAddress?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var auditLog: String?
    public var initialPassword: String?
    /// Cluster mode, when configured: the directory follows a log in PostgreSQL.
    public var cluster: ClusterConfiguration?

    /// Checks every value; the error names the flag, variable or file line that gave it.
    public init(_ values: SettingValues) throws(SettingsError) {
        self.values = values
        // An empty text is never meant: an empty password or socket path would be taken as
        // given (a super administrator binding with no password, a socket in the abstract
        // namespace with no permissions), and an empty file path fail only at start. The
        // one setting where nothing is a value, the ACL prefix, is checked below.
        for setting in Setting.allCases where setting != .dovecotACLPrefix && values[setting]?.texts.contains(where: \.isEmpty) == true {
            throw values.error(setting, "can't be empty; leave the setting out (null in the file) for \(setting.defaultValue == nil ? "none" : "its default")")
        }
        data = values.text(.data) ?? "deputy-data"

        server = ServerConfiguration()
        server.listen = try Self.address(.listen, values)!
        server.plainListen = try Self.address(.plainListen, values)
        server.plainSocket = values.text(.plainSocket)
        server.limits.maximumConnections = try values.count(.maxConnections)
        server.limits.idleTimeout = try values.seconds(.idleTimeout)
        server.limits.maximumListing = try values.count(.maxListing)
        server.limits.protocolLimits.maximumLineLengthBeforeAuthentication = try values.count(.maxLineUnauthenticated)
        server.limits.protocolLimits.maximumLineLengthAfterAuthentication = try values.count(.maxLine)
        server.limits.protocolLimits.maximumPendingRequests = try values.count(.maxPending)
        if let plain = server.plainListen, !plain.isLoopback {
            throw values.error(.plainListen, "\(plain) is not a loopback address; plaintext is allowed on 127.0.0.0/8, ::1 or a Unix socket only")
        }
        if case .unix = server.listen { throw values.error(.listen, "the TLS listener needs HOST:PORT") }

        throttle = LoginThrottle.Policy()
        throttle.accountFailures = try values.count(.lockoutFailures)
        throttle.addressFailures = try values.count(.lockoutAddressFailures)
        throttle.window = try values.seconds(.lockoutSeconds)
        throttle.lockout = throttle.window
        throttle.maximumDelay = try values.seconds(.lockoutDelayMax)

        certificate = values.text(.cert)
        key = values.text(.key)
        if (certificate == nil) != (key == nil) {
            throw values.error(certificate == nil ? .key : .cert, "cert and key go together: give both, or neither for a self-signed certificate")
        }
        clientCertificateAuthorities = values.text(.clientCA)

        let mailLimits = MailAdapterLimits(
            maximumConnections: try values.count(.mailMaxConnections), maximumRequestSize: try values.count(.mailMaxRequest),
            idleTimeout: try values.seconds(.mailIdleTimeout)
        )
        mail = MailAdapterConfiguration()
        let milter = MailAdapterKind.milter(MilterUnauthenticated(rawValue: try values.choice(.milterUnauthenticated))!)
        for kind in [MailAdapterKind.socketmap, .policy, .dovecotAuth, .dovecotDict, milter] {
            let setting = kind.setting
            guard let text = values.text(setting) else { continue }
            guard let address = MailAdapterListener.address(text) else { throw values.error(setting, "expected HOST:PORT or a Unix socket path, not \(SettingValues.quoted(text))") }
            mail.listeners.append(MailAdapterListener(kind: kind, address: address, limits: mailLimits))
        }
        if let text = values.text(.recipientDelimiter) {
            guard let delimiter = RecipientDelimiter(text) else {
                throw values.error(.recipientDelimiter, "expected one to 16 ASCII punctuation characters other than @ . \" \\ ( ) < > [ ] , ; :, as in Postfix's recipient_delimiter, not \(SettingValues.quoted(text))")
            }
            mail.recipientDelimiter = delimiter
        }
        dovecotACL = values.text(.dovecotACL)
        dovecotACLPrefix = values.text(.dovecotACLPrefix) ?? "shared/"
        if dovecotACLPrefix.contains(where: { "*?\" \\".contains($0) }) {
            throw values.error(.dovecotACLPrefix, "a prefix can't hold *, ?, quotes, backslashes or spaces, which Dovecot's ACL file reads otherwise")
        }
        for text in values.list(.tcpTable) {
            guard let listener = MailAdapterListener.tcpTable(text, limits: mailLimits) else {
                throw values.error(.tcpTable, "expected MAP=ADDRESS with MAP one of senders, mailboxes, delegates, aliases, not \(SettingValues.quoted(text))")
            }
            if case .unix(let path) = listener.address {
                throw values.error(.tcpTable, "Postfix's tcp table reaches a loopback HOST:PORT only, never a Unix socket: not \(SettingValues.quoted(path))")
            }
            mail.listeners.append(listener)
        }
        do {
            try mail.validate()
        } catch {
            throw SettingsError("mail listeners: \(error)")
        }

        threads = try Self.threadCount(.threads, values)
        hashThreads = try Self.threadCount(.hashThreads, values)
        snapshotEvery = try values.count(.snapshotEvery)
        snapshotInterval = try values.seconds(.snapshotInterval)
        metricsListen = try Self.address(.metricsListen, values)
        if let metricsListen, !metricsListen.isLoopback {
            throw values.error(.metricsListen, "\(metricsListen) is not a loopback HOST:PORT; metrics and health are served on loopback only")
        }
        logLevel = Logger.Level(rawValue: try values.choice(.logLevel))!
        logFormat = LogFormat(rawValue: try values.choice(.logFormat))!
        auditLog = values.text(.auditLog)
        initialPassword = values.text(.initialPassword)
        cluster = try ClusterConfiguration(values)
        try Self.requireDistinctListeners(self, values)
    }

    /// Two listeners on one address: refused here, so that check-config finds it as serve
    /// does (port 0, any free port, may repeat).
    private static func requireDistinctListeners(_ settings: DaemonSettings, _ values: SettingValues) throws(SettingsError) {
        var named: [(Setting, ListenAddress)] = [(.listen, settings.server.listen)]
        if let plain = settings.server.plainListen { named.append((.plainListen, plain)) }
        if let socket = settings.server.plainSocket { named.append((.plainSocket, .unix(path: socket))) }
        named += settings.mail.listeners.map { ($0.kind.setting, $0.address) }
        if let metrics = settings.metricsListen { named.append((.metricsListen, metrics)) }
        var seen: [ListenAddress: Setting] = [:]
        for (setting, address) in named {
            if case .tcp(_, 0) = address { continue }
            if let earlier = seen[address] {
                throw values.error(setting, "\(address) is \(earlier.name)'s address too; each listener needs its own")
            }
            seen[address] = setting
        }
    }

    /// `auto` (the CPUs this process may use) or a whole number of at least 1.
    private static func threadCount(_ setting: Setting, _ values: SettingValues) throws(SettingsError) -> Int {
        guard let text = values.text(setting), text != "auto" else { return UsableCores.count() }
        guard SettingValues.isDecimal(text, fraction: false), let number = Int(text), number >= 1, number <= 1_024 else {
            throw values.error(setting, "expected auto or a whole number from 1 to 1024, not \(SettingValues.quoted(text))")
        }
        return number
    }

    private static func address(_ setting: Setting, _ values: SettingValues) throws(SettingsError) -> ListenAddress? {
        guard let text = values.text(setting) else { return nil }
        guard let address = ListenAddress(hostAndPort: text) else { throw values.error(setting, "expected HOST:PORT, not \(SettingValues.quoted(text))") }
        return address
    }

    /// Every address the daemon listens on: TLS, plaintext, the Unix socket, the mail
    /// listeners and metrics, in that order.
    public var listenAddresses: [ListenAddress] {
        [server.listen] + [server.plainListen, server.plainSocket.map { .unix(path: $0) }].compactMap { $0 }
            + mail.listeners.map(\.address) + [metricsListen].compactMap { $0 }
    }

    /// The restart-only settings whose values differ in `other`: named in a warning on reload.
    public func restartSettingsChanged(in other: DaemonSettings) -> [Setting] {
        Setting.allCases.filter { $0.effect == .restart && values[$0]?.texts != other.values[$0]?.texts }
    }

    /// The settings on one line, secrets redacted: what a log shows of them.
    public var description: String { "DaemonSettings(\(values))" }

    /// The effective configuration as a configuration file: every setting in table order
    /// (`null` when off), secrets as `<redacted>`, and under `_sources` where each came from.
    public func printed() -> String {
        var lines: [String] = []
        for setting in Setting.allCases {
            let json: String
            if values[setting] != nil, setting.isSecret {
                json = Self.json("<redacted>")
            } else if let value = values[setting] {
                switch setting.kind {
                case .count, .seconds: json = value.texts.first ?? "null"
                case .autoOrCount: json = value.texts.first.map { $0 == "auto" ? Self.json($0) : $0 } ?? "null"
                case .list: json = "[" + value.texts.map(Self.json).joined(separator: ", ") + "]"
                default: json = Self.json(value.texts.first ?? "")
                }
            } else {
                json = "null"
            }
            lines.append("  \(Self.json(setting.name)): \(json)")
        }
        let sources = Setting.allCases.compactMap { setting in
            values[setting].map { "    \(Self.json(setting.name)): \(Self.json($0.source.label))" }
        }
        lines.append("  \"_sources\": {\n" + sources.joined(separator: ",\n") + "\n  }")
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    private static func json(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
