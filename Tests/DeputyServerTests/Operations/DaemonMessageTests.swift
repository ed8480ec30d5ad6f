import Foundation
import NIOCore
import NIOPosix
import Testing

/// What `deputyd` says when it can't start: the address in use, a file that is not there or
/// not what it should be, each in words, with the library's account only at debug level, and
/// nothing created in a new data directory.
@Suite("deputyd's messages")
struct DaemonMessageTests {
    private static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputyd-messages-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    private static func serve(_ arguments: [String]) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run(SecurityDaemon.binary, ["serve", "--listen", "127.0.0.1:0"] + arguments)
    }

    @Test("An address in use is named, and a new data directory is not created", arguments: ["--listen", "--plain-listen", "--metrics-listen"])
    func addressInUse(_ flag: String) async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(holder.localAddress?.port)
        let run = try await Self.serve(["--data", root + "/new", flag, "127.0.0.1:\(port)"])
        try await holder.close()
        #expect(run.status == 1)
        #expect(run.error.contains("cannot listen on 127.0.0.1:\(port): another program is listening there"), "\(run.error)")
        #expect(!run.error.contains("errno"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/new"), "nothing was created")
    }

    /// Refused with the settings, as a usage error naming both, so that check-config finds
    /// it as well.
    @Test("The metrics listener's address given to another listener too is refused with both settings named, and nothing is created")
    func metricsAddressTwice() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = try DovecotLab.freePort()
        let run = try await Self.serve(["--data", root + "/new", "--socketmap", "127.0.0.1:\(port)", "--metrics-listen", "127.0.0.1:\(port)"])
        #expect(run.status == 64)
        #expect(run.error.contains("--metrics-listen: 127.0.0.1:\(port) is socketmap's address too; each listener needs its own"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/new"), "nothing was created")
    }

    @Test("A certificate file that is not there, or not PEM, is named; the library's account only at debug level")
    func certificateFiles() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = try await Self.serve(["--data", root + "/new", "--cert", root + "/none.pem", "--key", root + "/none.key"])
        #expect(missing.status == 1)
        #expect(missing.error.contains("cannot read the certificate file \(root)/none.pem: no such file or directory"), "\(missing.error)")
        #expect(!missing.error.contains("failedToLoadCertificate"))
        #expect(!FileManager.default.fileExists(atPath: root + "/new"), "nothing was created")

        let text = root + "/text.pem"
        try "not a certificate\n".write(toFile: text, atomically: true, encoding: .utf8)
        let notPEM = try await Self.serve(["--data", root + "/new", "--cert", text, "--key", text])
        #expect(notPEM.error.contains("the certificate file \(text) is not a PEM file of certificates"), "\(notPEM.error)")
        #expect(!notPEM.error.contains("error.detail"))
        let debug = try await Self.serve(["--data", root + "/new", "--cert", text, "--key", text, "--log-level", "debug"])
        #expect(debug.error.contains("error.detail="), "\(debug.error)")
    }

    @Test("A configuration file that is not there is named with the reason, not a Foundation error")
    func missingConfiguration() async throws {
        let run = try await ProcessRunner.run(SecurityDaemon.binary, ["serve", "--config", "/nonexistent/deputyd.json"])
        #expect(run.status != 0)
        #expect(run.error.contains("/nonexistent/deputyd.json: cannot read the configuration file: no such file or directory"), "\(run.error)")
        #expect(!run.error.contains("NSCocoaErrorDomain"))
    }

    @Test("The first start names the file that holds the super administrator's password")
    func firstStartPassword() async throws {
        let daemon = try await SecurityDaemon.start()
        let file = daemon.data + "/initial-password"
        #expect(daemon.logText.contains("created the organisation example; the password of its super administrator, admin@example.test, is in \(file)"))
        #expect(!daemon.logText.contains(daemon.password))
        await daemon.stop()
    }

    @Test("A cluster command without the cluster settings says which it needs, with its own usage", arguments: ["init", "status", "backup"])
    func clusterCommandWithoutSettings(_ command: String) async throws {
        let arguments = ["cluster", command] + (command == "backup" ? ["--to", "/nonexistent/backup.json"] : [])
        let run = try await ProcessRunner.run(SecurityDaemon.binary, arguments)
        #expect(run.status == 64)
        #expect(run.error.contains("cluster \(command) needs cluster-hosts and cluster-password-file"), "\(run.error)")
        // The usage names the settings, which the daemon's hidden option group parses.
        #expect(run.error.contains("Usage: deputyd cluster \(command) [--config FILE] [--data DIR] --cluster-hosts HOST[:PORT]"), "\(run.error)")
    }

    @Test("A factor key that can't be read is named with the reason, not a Foundation error")
    func unreadableFactorKey() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        // Root reads any file: a directory in the key's place is what can't be read here.
        try FileManager.default.createDirectory(atPath: data + "/factor-key", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(data, 0o700)
        let run = try await Self.serve(["--data", data])
        #expect(run.status == 1)
        #expect(run.error.contains("cannot read the factor key \(data)/factor-key: "), "\(run.error)")
        #expect(!run.error.contains("NSCocoaErrorDomain"), "\(run.error)")
    }

    @Test("A cluster node's data directory is refused by a start without cluster settings, by check, backup, restore and init: its snapshot is from before the cluster")
    func clusterNodeDataDirectoryAsSingleNode() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        // A single node's directory first, then the state file a cluster node writes beside it.
        let initialized = try await ProcessRunner.run(SecurityDaemon.binary, ["init", "--data", data, "--org", "Example", "--domain", "example.test", "--superadmin", "admin@example.test"])
        #expect(initialized.status == 0, "\(initialized.error)")
        try "deputy-cluster-state 1 ...\n".write(toFile: data + "/cluster-state", atomically: true, encoding: .utf8)
        chmod(data + "/cluster-state", 0o600)
        let expected = "\(data) is a cluster node's data directory (it holds cluster-state)"
        let serve = try await Self.serve(["--data", data])
        #expect(serve.status == 1 && serve.error.contains(expected), "\(serve.error)")
        let check = try await ProcessRunner.run(SecurityDaemon.binary, ["check", "--data", data])
        #expect(check.status != 0 && (check.output + check.error).contains(expected), "\(check.output)\(check.error)")
        let backup = try await ProcessRunner.run(SecurityDaemon.binary, ["backup", "--data", data, "--to", root + "/backup.json"])
        #expect(backup.status != 0 && (backup.output + backup.error).contains(expected), "\(backup.output)\(backup.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/backup.json"))

        // Nor is a single node's directory made there: restored into a node's new directory
        // or created by init.
        let node = root + "/node"
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        // The mark a node writes before it first serves, long before its first state file.
        try "n1\n".write(toFile: node + "/cluster-node", atomically: true, encoding: .utf8)
        chmod(node + "/cluster-node", 0o600)
        let source = root + "/single-backup.json"
        let single = try await ProcessRunner.run(SecurityDaemon.binary, ["init", "--data", root + "/single", "--org", "Example", "--domain", "example.test", "--superadmin", "admin@example.test"])
        #expect(single.status == 0, "\(single.error)")
        let backedUp = try await ProcessRunner.run(SecurityDaemon.binary, ["backup", "--data", root + "/single", "--to", source])
        #expect(backedUp.status == 0, "\(backedUp.error)")
        let nodeExpected = "\(node) is a cluster node's data directory (it holds cluster-node)"
        let restore = try await ProcessRunner.run(SecurityDaemon.binary, ["restore", "--data", node, "--from", source])
        #expect(restore.status != 0 && (restore.output + restore.error).contains(nodeExpected), "\(restore.output)\(restore.error)")
        let initialize = try await ProcessRunner.run(SecurityDaemon.binary, ["init", "--data", node, "--org", "Example", "--domain", "example.test", "--superadmin", "admin@example.test"])
        #expect(initialize.status != 0 && (initialize.output + initialize.error).contains(nodeExpected), "\(initialize.output)\(initialize.error)")
        #expect(!FileManager.default.fileExists(atPath: node + "/snapshot.json"), "nothing was written into the node's directory")
    }

    @Test("deputyd health that can't find the listener says it could not ask, not that the daemon is unhealthy")
    func healthWithoutItsConfiguration() async throws {
        let run = try await ProcessRunner.run(SecurityDaemon.binary, ["health", "--config", "/nonexistent/deputyd.json"])
        #expect(run.status == 1)
        #expect(run.output.hasPrefix("cannot ask the daemon: /nonexistent/deputyd.json: cannot read the configuration file"), "\(run.output)")
        let nothing = try await ProcessRunner.run(SecurityDaemon.binary, ["health"])
        #expect(nothing.status == 1)
        #expect(nothing.output.hasPrefix("cannot ask the daemon: no metrics-listen is configured"), "\(nothing.output)")
    }

    @Test("deputyd check of a data directory that is not there names the problem and reports no journal")
    func checkOfNothing() async throws {
        let run = try await ProcessRunner.run(SecurityDaemon.binary, ["check", "--data", "/nonexistent/deputy-data"])
        #expect(run.status == 1)
        #expect(run.output.contains("problem: "), "\(run.output)")
        #expect(!run.output.contains("journal:"), "\(run.output)")
    }

    @Test("An audit log open to others is refused with its mode and the command that fixes it, as the data directory's files are")
    func auditLogOpenToOthers() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let audit = root + "/audit.log"
        #expect(FileManager.default.createFile(atPath: audit, contents: nil, attributes: [.posixPermissions: 0o644]))
        let run = try await Self.serve(["--data", root + "/new", "--audit-log", audit])
        #expect(run.status == 1)
        #expect(run.error.contains("the audit log \(audit) is open to group or others (mode 0644); fix it with: chmod 600 \(audit)"), "\(run.error)")
    }
}
