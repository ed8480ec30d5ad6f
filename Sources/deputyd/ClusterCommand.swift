import ArgumentParser
import DeputyCluster
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging

/// `deputyd cluster`: set up and inspect cluster mode (docs/cluster.md).
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cluster mode on PostgreSQL: create the shared log from a data directory, or show where each node stands.",
        subcommands: [ClusterInit.self, ClusterStatus.self]
    )
}

/// `deputyd cluster init`: the schema, and the first shared snapshot from a single-node
/// data directory.
struct ClusterInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the cluster's tables in PostgreSQL and upload the directory in --data as its first snapshot; refuses a database that has them."
    )

    @OptionGroup var settings: SettingOptions

    func run() async throws {
        let resolved = try settings.resolve(environment: ProcessInfo.processInfo.environment)
        guard let configuration = resolved.cluster else {
            throw ValidationError("cluster init needs cluster-hosts and cluster-password-file (flags, DEPUTY_* variables or the configuration file)")
        }
        let logger = Logger(label: "deputyd")
        let directory: Directory
        do {
            directory = try Self.read(dataDirectory: resolved.data)
        } catch {
            throw StartupFailure(error)
        }
        guard let organization = directory.organization else {
            throw StartupFailure(message: "\(resolved.data) holds no organisation yet; create it first with deputyd init")
        }
        do {
            let report = try await ClusterSetup.initialize(settings: try ClusterSettings(configuration), directory: directory, logger: logger)
            print("cluster created with \(organization.name) from \(resolved.data) at revision \(report.sequence) (snapshot \(report.snapshotBytes) bytes); start each node with these cluster settings")
        } catch let error as ClusterError {
            throw StartupFailure(message: error.description)
        }
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
        abstract: "Show the head of the shared log, its snapshots, the synchronous standbys, and each node's applied revision."
    )

    @OptionGroup var settings: SettingOptions

    func run() async throws {
        let resolved = try settings.resolve(environment: ProcessInfo.processInfo.environment)
        guard let configuration = resolved.cluster else {
            throw ValidationError("cluster status needs cluster-hosts and cluster-password-file")
        }
        let report: ClusterStatusReport
        do {
            report = try await ClusterStatusReport.read(settings: try ClusterSettings(configuration), logger: Logger(label: "deputyd"))
        } catch let error as ClusterError {
            throw StartupFailure(message: error.description)
        }
        print("head \(report.head); newest shared snapshot \(report.newestSnapshot.map(String.init) ?? "none"); log from \(report.oldestLogRow.map(String.init) ?? "(empty)"); synchronous standbys \(report.synchronousStandbys)")
        for node in report.nodes {
            let chain = switch node.matchesLog { case true?: "chain ok"; case false?: "DIVERGED"; case nil: "chain not checkable" }
            print("node \(node.name): applied \(node.applied) (\(report.head - node.applied) behind), \(chain), seen \(String(format: "%.1f", node.secondsSinceSeen)) s ago")
        }
    }
}
