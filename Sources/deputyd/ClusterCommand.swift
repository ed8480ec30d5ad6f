import ArgumentParser
import DeputyCluster
import DeputyCore
import DeputyDaemon
import DeputyServer
import DeputyStore
import Foundation
import Logging

/// `deputyd cluster`: set up and inspect cluster mode (docs/cluster.md).
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cluster mode on PostgreSQL: create the shared log from a data directory, show where each node stands, or copy the directory out of it.",
        subcommands: [ClusterInit.self, ClusterStatus.self, ClusterBackup.self]
    )

    /// What the subcommands' help says of their settings.
    /// The usage line of a cluster subcommand: its settings are parsed by the daemon's own
    /// hidden option group, so the generated line would name none of them.
    static func usage(_ command: String, extra: String = "") -> String {
        "deputyd cluster \(command) [--config FILE] [--data DIR] --cluster-hosts HOST[:PORT] [--cluster-hosts HOST[:PORT] ...] --cluster-password-file FILE --cluster-ca FILE [--cluster-database NAME] [--cluster-user NAME] [--cluster-node NAME]\(extra)"
    }

    static let settingsHelp = "The cluster settings come as deputyd serve takes them (flags, DEPUTY_* variables or --config FILE, docs/configuration.md): --cluster-hosts (repeatable), --cluster-password-file, --cluster-ca, --cluster-database, --cluster-user, --cluster-node, and --data."
}

/// `deputyd cluster init`: the schema, and the first shared snapshot from a single-node
/// data directory.
struct ClusterInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the cluster's tables in PostgreSQL and upload the directory in --data as its first snapshot; refuses a database that has them.",
        usage: Cluster.usage("init"),
        discussion: Cluster.settingsHelp + " The factor key in --data (made if there is none) is the cluster's: copy it to every node."
    )

    // Every serve setting parses here, but only the cluster's matter: the help names those
    // (``Cluster/settingsHelp``) rather than listing the daemon's fifty.
    @OptionGroup(visibility: .hidden) var settings: SettingOptions

    // Checked while the arguments are parsed, so that a refusal shows this command's usage.
    func validate() throws { _ = try settings.cluster(for: "init") }

    func run() async throws {
        let (resolved, cluster) = try settings.cluster(for: "init")
        let logger = Logger(label: "deputyd")
        let directory: Directory
        do {
            try LocalClusterState.refuseSingleNodeUse(of: resolved.data, by: "cluster init")
            directory = try Self.read(dataDirectory: resolved.data)
        } catch {
            throw StartupFailure(error)
        }
        guard let organization = directory.organization else {
            throw StartupFailure(message: "\(resolved.data) holds no organisation yet; create it first with deputyd init")
        }
        do {
            let report = try await ClusterSetup.initialize(settings: cluster, directory: directory, logger: logger)
            print("cluster created with \(organization.name) from \(resolved.data) at revision \(report.sequence) (snapshot \(report.snapshotBytes) bytes)")
        } catch {
            throw StartupFailure(message: ClusterError(wrapping: error).description)
        }
        // The one factor key of the cluster: this data directory's (made now if it has
        // none), so that the secrets sealed here open on every node.
        let keyPath = (resolved.data as NSString).appendingPathComponent(DataFiles.factorKey)
        do {
            _ = try DataFiles.factorBox(dataDirectory: resolved.data)
        } catch {
            throw StartupFailure(message: "the cluster was created, but \(keyPath) could not be made: \(error); every node needs one copy of the same factor key")
        }
        print("copy \(keyPath) into every node's data directory (mode 0600) before its first start, then start each node with these cluster settings")
    }
}

extension ClusterInit {
    /// A consistent copy of the directory in `path`, also beside a running single-node
    /// daemon.
    static func read(dataDirectory path: String) throws(StoreError) -> Directory {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-cluster-init-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try Store.backup(dataDirectory: path, to: copy)
        return try PortableSnapshot.decode(try PortableSnapshot.read(copy) ?? [], source: path)
    }
}

/// `deputyd cluster status`: the head of the log and each node's progress.
struct ClusterStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the head of the shared log, its snapshots, the synchronous standbys, what each PostgreSQL server answers, and each node's applied revision.",
        usage: Cluster.usage("status"),
        discussion: Cluster.settingsHelp
    )

    // Every serve setting parses here, but only the cluster's matter: the help names those
    // (``Cluster/settingsHelp``) rather than listing the daemon's fifty.
    @OptionGroup(visibility: .hidden) var settings: SettingOptions

    // Checked while the arguments are parsed, so that a refusal shows this command's usage.
    func validate() throws { _ = try settings.cluster(for: "status") }

    func run() async throws {
        let (_, cluster) = try settings.cluster(for: "status")
        let report: ClusterStatusReport
        do {
            report = try await ClusterStatusReport.read(settings: cluster, logger: Logger(label: "deputyd"))
        } catch let noPrimary as ClusterStatusReport.NoPrimary {
            for host in noPrimary.hosts { print("host \(host)") }
            throw StartupFailure(message: noPrimary.reason.description)
        } catch {
            throw StartupFailure(message: ClusterError(wrapping: error).description)
        }
        print("head \(report.head); newest shared snapshot \(report.newestSnapshot.map(String.init) ?? "none"); log from \(report.oldestLogRow.map(String.init) ?? "(empty)"); synchronous standbys \(report.synchronousStandbys)")
        for host in report.hosts { print("host \(host)") }
        for node in report.nodes {
            let chain = switch node.matchesLog { case true?: "chain ok"; case false?: "DIVERGED"; case nil: "chain not checkable" }
            print("node \(node.name): applied \(node.applied) (\(report.head - node.applied) behind), \(chain), seen \(String(format: "%.1f", node.secondsSinceSeen)) s ago")
        }
    }
}

/// `deputyd cluster backup`: the directory at the head of the shared log, in the snapshot
/// format, for `deputyd restore` (the way back to one node) or safekeeping.
struct ClusterBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the whole directory at the head of the shared log to a file in the snapshot format (0600); deputyd restore makes it a single node's data directory.",
        usage: Cluster.usage("backup", extra: " --to FILE"),
        discussion: Cluster.settingsHelp
    )

    // Every serve setting parses here, but only the cluster's matter: the help names those
    // (``Cluster/settingsHelp``) rather than listing the daemon's fifty.
    @OptionGroup(visibility: .hidden) var settings: SettingOptions

    // Checked while the arguments are parsed, so that a refusal shows this command's usage.
    func validate() throws { _ = try settings.cluster(for: "backup") }
    @Option(help: "The file to write.") var to: String

    func run() async throws {
        let (_, cluster) = try settings.cluster(for: "backup")
        do {
            let (sequence, bytes, counts) = try await ClusterSetup.export(settings: cluster, logger: Logger(label: "deputyd"))
            try PortableSnapshot.write(bytes, to: to)
            // The counts, as deputyd backup gives them: what the file holds, at a glance.
            print("backup of revision \(sequence) written to \(to): \(counts) (\(bytes.count) bytes)")
        } catch let error as StoreError {
            throw StartupFailure(error)
        } catch {
            throw StartupFailure(message: ClusterError(wrapping: error).description)
        }
    }
}

extension SettingOptions {
    /// The daemon's settings and the cluster's, its password read from its file; a usage
    /// error when cluster mode is not configured.
    func cluster(for command: String) throws -> (DaemonSettings, ClusterSettings) {
        let resolved = try resolve(environment: ProcessInfo.processInfo.environment)
        guard let configuration = resolved.cluster else {
            throw ValidationError("cluster \(command) needs cluster-hosts and cluster-password-file (flags, DEPUTY_* variables or the configuration file)")
        }
        return (resolved, try ClusterSettings(configuration))
    }
}
