import DeputyDaemon
import ArgumentParser
import DeputyCluster
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `deputyd init`: create the organisation in an empty data directory, non-interactively.
struct Initialize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the organisation in an empty data directory.")

    @Option(help: "The data directory.") var data = "deputy-data"
    @Option(help: "The organisation's name.") var org: String
    @Option(help: "The organisation's first mail domain.") var domain: String
    @Option(help: "The super administrator's address (in that domain).") var superadmin: String
    @Option(help: "A file (mode 600) holding the super administrator's password; else one is generated into DATA/initial-password.") var passwordFile: String?

    func run() async throws {
        guard let domainName = DomainName(domain) else { throw ValidationError("--domain is not a valid domain") }
        guard let address = EmailAddress(superadmin) else { throw ValidationError("--superadmin is not a valid mail address") }
        var password: String?
        if let passwordFile {
            password = try PasswordFile.read(passwordFile)
        }
        let logger = Logger(label: "deputyd")
        let store: Store
        do {
            try LocalClusterState.refuseSingleNodeUse(of: data, by: "deputyd init")
            store = try await Store.open(path: data, logger: logger)
        } catch {
            throw StartupFailure(error)
        }
        guard store.directory.organization == nil else {
            try? await store.close()
            throw StartupFailure(message: "\(data) already holds the organisation \(store.directory.organization!.name); init works on an empty data directory only")
        }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let generated = try await FirstStart.createOrganization(
            in: store, name: org, domain: domainName, superAdministrator: address, password: password, dataDirectory: data,
            passwords: PasswordService(hasher: .standard, pool: pool), logger: logger
        )
        try await store.close()
        print("created \(org) (\(domainName)) with super administrator \(address)" + (generated == nil ? "" : "; password in \(data)/\(DataFiles.initialPassword)"))
    }
}

/// `deputyd check`: verify the data files without starting.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify the snapshot and journal without starting; exit 1 when damaged.")
    @Option(help: "The data directory.") var data = "deputy-data"

    func run() throws {
        do {
            try LocalClusterState.refuseSingleNodeUse(of: data, by: "deputyd check")
        } catch {
            throw StartupFailure(error)
        }
        let report = Store.check(path: data)
        if let holder = report.inUseBy {
            print("note: \(data) is in use by \(holder), a running deputyd; its files were read as they were at one moment")
        }
        if let counts = report.counts { print("directory: \(counts)") }
        // What recovery would start from; nothing when it could not get that far (no data
        // directory, a refused permission).
        if let recovery = report.recovery {
            print("snapshot: \(recovery.snapshotSequence.map { "at sequence \($0)" } ?? "none")")
            print("journal: \(report.journalBytes) bytes, \(recovery.journalRecords) records (\(recovery.replayedRecords) after the snapshot); the directory at revision \(recovery.lastSequence)")
        }
        for warning in report.warnings { print("warning: \(warning)") }
        for problem in report.problems + report.consistencyProblems { print("problem: \(problem)") }
        guard report.isHealthy else { throw ExitCode(1) }
        print("ok")
    }
}

/// `deputyd backup`: a consistent point-in-time copy, while the daemon runs or not.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the whole directory, at one point in time, to a file in the snapshot format (0600); safe while the daemon runs.",
        aliases: ["export"]
    )
    @Option(help: "The data directory.") var data = "deputy-data"
    @Option(help: "The file to write.") var to: String

    func run() throws {
        do {
            try LocalClusterState.refuseSingleNodeUse(of: data, by: "deputyd backup")
            let report = try Store.backup(dataDirectory: data, to: to)
            print("backed up \(report.counts) at sequence \(report.sequence) to \(report.path) (\(report.bytes) bytes)")
        } catch {
            throw StartupFailure(error)
        }
    }
}

/// `deputyd restore`: a backup into an empty data directory.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a backup into a data directory that holds no directory yet (the daemon must not be running on it).",
        aliases: ["import"]
    )
    @Option(help: "The data directory: new, or holding no directory yet (no snapshot, no journal records); TLS files and factor-key may be there.") var data = "deputy-data"
    @Option(help: "The backup file to read.") var from: String
    @Flag(help: "Check the file and report what it holds, changing nothing.") var dryRun = false

    func run() throws {
        do {
            // A node's data directory would then hold a single node's directory beside
            // the node's state: neither a node nor a single node could use it as it is.
            if !dryRun { try LocalClusterState.refuseSingleNodeUse(of: data, by: "deputyd restore") }
            let report = try Store.importSnapshot(from: from, into: data, dryRun: dryRun)
            print("\(dryRun ? "would restore" : "restored") \(report.counts) at sequence \(report.sequence)")
        } catch {
            throw StartupFailure(error)
        }
    }
}
