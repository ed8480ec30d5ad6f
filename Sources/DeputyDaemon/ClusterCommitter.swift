import DeputyCluster
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging
import ServiceLifecycle

/// The shared log in PostgreSQL as the daemon's single writer (cluster mode): a change is
/// answered once it is committed on the primary, flushed on a synchronous standby, and
/// applied by this node, with the result the core produced here.
public struct ClusterCommitter: DirectoryCommitter {
    public let node: ClusterNode
    /// The audit log file, when one is configured: it follows each change made here.
    public var audit: AuditFileWriter?

    /// A committer for `node`, writing each change to `audit` too when one is given.
    public init(node: ClusterNode, audit: AuditFileWriter?) {
        self.node = node
        self.audit = audit
    }

    public var live: LiveDirectory { node.live }

    public func commit(_ command: Command, context: CommandContext) async throws -> Committed {
        let result: Committed
        do {
            let (answer, sequence) = try await node.writer.commitReturningSequence(command, context: context)
            result = Committed(result: answer, revision: UInt64(sequence))
        } catch let error as ClusterError where error.kind != .incompatible {
            throw CommitUnavailable(error.description, outcomeUnknown: error.kind == .indeterminate)
        }
        if let audit { await audit.catchUp(with: node.live.directory.auditLog) }
        return result
    }

    /// Writes this node's local state file now; the shared snapshots are written by the
    /// nodes as the log grows.
    public func snapshot() async throws -> String {
        let sequence = await node.applier.saveLocalStateNow()
        return "local cluster state written at sequence \(sequence)"
    }
}

/// Runs a cluster node: follows the log and keeps the write connection until the daemon
/// stops, then saves the node's local state.
///
/// It comes first in the service group, so it stops last: after every connection has
/// finished the request it had in hand.
struct ClusterNodeService: Service, CustomStringConvertible {
    let node: ClusterNode

    var description: String { "ClusterNode" }

    func run() async throws {
        await cancelWhenGracefulShutdown { await node.run() }
    }
}

extension ClusterSettings {
    /// The settings `configuration` gives, with the password read from its file.
    public init(_ configuration: ClusterConfiguration) throws {
        self.init(
            endpoints: configuration.hosts.map { Endpoint(host: $0.name, port: $0.port) }, database: configuration.database, user: configuration.user,
            password: try PasswordFile.read(configuration.passwordFile), certificateAuthorities: configuration.certificateAuthorities,
            nodeName: configuration.nodeName
        )
    }
}
