@testable import DeputyCluster
import Foundation
import Testing

/// A node's data directory: marked as a node's from the first start, and never one that
/// holds a single node's directory, whose later changes the node would never read.
@Suite(.serialized)
struct NodeDataDirectoryTests {
    @Test func aNodeMarksItsDirectoryAtOnceAndRefusesASingleNodesDirectory() async throws {
        try await ClusterHarness.run(nodes: 1) { harness in
            let settings = harness.pair.settings(node: "probe")
            let root = "/tmp/deputy-node-directories-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: root) }
            func directory(_ name: String, files: [String: String] = [:]) throws -> String {
                let path = root + "/" + name
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                for (file, text) in files { try text.write(toFile: path + "/" + file, atomically: false, encoding: .utf8) }
                return path
            }

            // A new directory: marked as the node's as soon as the node is open, long before
            // its first state file (a thousand records away), and single-node tools refuse it.
            let fresh = try directory("fresh")
            let node = try await ClusterNode.open(settings: settings, dataDirectory: fresh, logger: ClusterFixture.logger)
            #expect(!node.startedFromLocalState)
            #expect(try LocalClusterState(dataDirectory: fresh).load() == nil, "no state file yet: the mark alone")
            #expect(try String(contentsOfFile: fresh + "/cluster-node", encoding: .utf8) == "probe\n")
            do {
                try LocalClusterState.refuseSingleNodeUse(of: fresh, by: "a check")
                Issue.record("a single-node check was not refused on a node's new directory")
            } catch {
                #expect("\(error)".contains("is a cluster node's data directory (it holds cluster-node)"), "\(error)")
            }

            // A single node's journal with records (a single node that never wrote a
            // snapshot), or its snapshot: refused, with the file named.
            for (name, file) in [("journal", "journal.log"), ("snapshot", "snapshot.json")] {
                let single = try directory(name, files: [file: "a single node's \(file)\n"])
                do {
                    _ = try await ClusterNode.open(settings: settings, dataDirectory: single, logger: ClusterFixture.logger)
                    Issue.record("a node opened on a directory holding \(file)")
                } catch let error as ClusterError {
                    #expect(error.description.contains("holds a single node's directory (\(file))"), "\(error)")
                }
                #expect(LocalClusterState.nodeFile(in: single) == nil, "the refused directory was left as it was")
            }
            // An empty journal is no directory: a single node's start makes one first.
            _ = try await ClusterNode.open(settings: settings, dataDirectory: try directory("empty-journal", files: ["journal.log": ""]), logger: ClusterFixture.logger)

            // A node's own directory whose state file is damaged, beside leftovers from
            // before the cluster: not refused (it holds the state file); the node starts
            // from the shared snapshot, and marks the directory.
            let damaged = try directory("damaged", files: ["snapshot.json": "from before the cluster\n", "cluster-state": "damaged\n"])
            let reopened = try await ClusterNode.open(settings: settings, dataDirectory: damaged, logger: ClusterFixture.logger)
            #expect(!reopened.startedFromLocalState)
            #expect(FileManager.default.fileExists(atPath: damaged + "/cluster-node"))
        }
    }

    /// A new node whose password PostgreSQL refuses tells why while it still tries, not only
    /// when it gives up.
    @Test func aNewNodeThatCantReadTheSnapshotSaysWhyAtOnce() async throws {
        try await ClusterHarness.run(nodes: 0) { harness in
            var settings = harness.pair.settings(node: "wrong-password")
            settings.password = "not-the-password"
            let said = "the shared snapshot can't be read yet"
            let before = ClusterFixture.warnings.all.filter { $0.contains(said) }.count
            let root = "/tmp/deputy-node-wrong-password-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let opening = Task { try await ClusterNode.open(settings: settings, dataDirectory: root, bootstrapTimeout: .seconds(20), logger: ClusterFixture.logger) }
            #expect(await ClusterFixture.waitUntil(seconds: 10) { ClusterFixture.warnings.all.filter { $0.contains(said) }.count > before }, "nothing said while it tried")
            let line = ClusterFixture.warnings.all.last { $0.contains(said) } ?? ""
            #expect(line.contains("password authentication failed"), "\(line)")
            opening.cancel()
            _ = try? await opening.value
        }
    }
}
