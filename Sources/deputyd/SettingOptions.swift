import ArgumentParser
import DeputyServer
import Foundation

/// The flags of every setting (see ``Setting``), and `--config`. Each is optional here: a
/// flag that is not given leaves the setting to its variable, the file or its default.
struct SettingOptions: ParsableArguments {
    @Option(help: "A JSON configuration file (docs/configuration.md); also DEPUTY_CONFIG.") var config: String?

    @Option(help: Self.help(.data)) var data: String?
    @Option(help: Self.help(.listen)) var listen: String?
    @Option(help: Self.help(.plainListen)) var plainListen: String?
    @Option(help: Self.help(.plainSocket)) var plainSocket: String?
    @Option(help: Self.help(.cert)) var cert: String?
    @Option(help: Self.help(.key)) var key: String?
    @Option(help: Self.help(.clientCA)) var clientCa: String?
    @Option(help: Self.help(.maxConnections)) var maxConnections: String?
    @Option(help: Self.help(.idleTimeout)) var idleTimeout: String?
    @Option(help: Self.help(.maxLineUnauthenticated)) var maxLineUnauthenticated: String?
    @Option(help: Self.help(.maxLine)) var maxLine: String?
    @Option(help: Self.help(.maxPending)) var maxPending: String?
    @Option(help: Self.help(.maxListing)) var maxListing: String?
    @Option(help: Self.help(.lockoutFailures)) var lockoutFailures: String?
    @Option(help: Self.help(.lockoutAddressFailures)) var lockoutAddressFailures: String?
    @Option(help: Self.help(.lockoutSeconds)) var lockoutSeconds: String?
    @Option(help: Self.help(.lockoutDelayMax)) var lockoutDelayMax: String?
    @Option(help: Self.help(.socketmap)) var socketmap: String?
    @Option(help: Self.help(.tcpTable)) var tcpTable: [String] = []
    @Option(help: Self.help(.policy)) var policy: String?
    @Option(help: Self.help(.dovecotAuth)) var dovecotAuth: String?
    @Option(help: Self.help(.dovecotDict)) var dovecotDict: String?
    @Option(help: Self.help(.milter)) var milter: String?
    @Option(help: Self.help(.milterUnauthenticated)) var milterUnauthenticated: String?
    @Option(help: Self.help(.recipientDelimiter)) var recipientDelimiter: String?
    @Option(help: Self.help(.dovecotACL)) var dovecotAcl: String?
    @Option(help: Self.help(.dovecotACLPrefix)) var dovecotAclPrefix: String?
    @Option(help: Self.help(.mailMaxConnections)) var mailMaxConnections: String?
    @Option(help: Self.help(.mailMaxRequest)) var mailMaxRequest: String?
    @Option(help: Self.help(.mailIdleTimeout)) var mailIdleTimeout: String?
    @Option(help: Self.help(.threads)) var threads: String?
    @Option(help: Self.help(.hashThreads)) var hashThreads: String?
    @Option(help: Self.help(.snapshotEvery)) var snapshotEvery: String?
    @Option(help: Self.help(.snapshotInterval)) var snapshotInterval: String?
    @Option(help: Self.help(.metricsListen)) var metricsListen: String?
    @Option(help: Self.help(.logLevel)) var logLevel: String?
    @Option(help: Self.help(.logFormat)) var logFormat: String?
    @Option(help: Self.help(.auditLog)) var auditLog: String?
    @Option(help: Self.help(.initialPassword)) var initialPassword: String?
    @Option(help: Self.help(.clusterHosts)) var clusterHosts: [String] = []
    @Option(help: Self.help(.clusterDatabase)) var clusterDatabase: String?
    @Option(help: Self.help(.clusterUser)) var clusterUser: String?
    @Option(help: Self.help(.clusterPasswordFile)) var clusterPasswordFile: String?
    @Option(help: Self.help(.clusterCA)) var clusterCa: String?
    @Option(help: Self.help(.clusterNode)) var clusterNode: String?

    /// The flags given, by setting.
    var flags: [Setting: [String]] {
        let given: [(Setting, String?)] = [
            (.data, data), (.listen, listen), (.plainListen, plainListen), (.plainSocket, plainSocket), (.cert, cert), (.key, key),
            (.clientCA, clientCa), (.maxConnections, maxConnections), (.idleTimeout, idleTimeout),
            (.maxLineUnauthenticated, maxLineUnauthenticated), (.maxLine, maxLine), (.maxPending, maxPending), (.maxListing, maxListing),
            (.lockoutFailures, lockoutFailures), (.lockoutAddressFailures, lockoutAddressFailures), (.lockoutSeconds, lockoutSeconds),
            (.lockoutDelayMax, lockoutDelayMax),
            (.socketmap, socketmap), (.policy, policy), (.dovecotAuth, dovecotAuth), (.dovecotDict, dovecotDict),
            (.milter, milter), (.milterUnauthenticated, milterUnauthenticated), (.recipientDelimiter, recipientDelimiter),
            (.dovecotACL, dovecotAcl), (.dovecotACLPrefix, dovecotAclPrefix),
            (.mailMaxConnections, mailMaxConnections), (.mailMaxRequest, mailMaxRequest), (.mailIdleTimeout, mailIdleTimeout),
            (.threads, threads), (.hashThreads, hashThreads), (.snapshotEvery, snapshotEvery), (.snapshotInterval, snapshotInterval), (.metricsListen, metricsListen),
            (.logLevel, logLevel), (.logFormat, logFormat), (.auditLog, auditLog), (.initialPassword, initialPassword),
            (.clusterDatabase, clusterDatabase), (.clusterUser, clusterUser), (.clusterPasswordFile, clusterPasswordFile),
            (.clusterCA, clusterCa), (.clusterNode, clusterNode),
        ]
        var flags: [Setting: [String]] = [:]
        for (setting, value) in given {
            if let value { flags[setting] = [value] }
        }
        if !tcpTable.isEmpty { flags[.tcpTable] = tcpTable }
        if !clusterHosts.isEmpty { flags[.clusterHosts] = clusterHosts }
        return flags
    }

    /// The settings now: these flags, `environment`, and the configuration file read afresh.
    func resolve(environment: [String: String]) throws -> DaemonSettings {
        do {
            var file: [Setting: SettingValue] = [:]
            if let path = config ?? environment[ConfigurationFile.environmentName].flatMap({ $0.isEmpty ? nil : $0 }) {
                file = try ConfigurationFile.load(path: path)
            }
            return try DaemonSettings(SettingValues(flags: flags, environment: environment, file: file))
        } catch {
            throw ValidationError(error.description)
        }
    }

    private static func help(_ setting: Setting) -> ArgumentHelp {
        let fallback = setting.defaultValue.map { " Default: \($0)." } ?? ""
        let secret = setting.isSecret ? " Prefer the variable or the file: flags show in the process list." : ""
        return ArgumentHelp("\(setting.help)\(fallback) Variable: \(setting.environmentName).\(secret)")
    }
}

extension SettingOptions: CustomStringConvertible {
    /// Flags may hold the initial password: a description shows only where the file is.
    var description: String { "SettingOptions(config: \(config ?? "none"))" }
}
