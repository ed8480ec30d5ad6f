import DeputyCore
import DeputyServer
import ServiceLifecycle

/// Keeps the audit log file up with the directory in cluster mode, where most records come
/// from the other nodes' changes: a node that makes none of its own would otherwise write
/// its file only at start, and an audit retention could drop what it never wrote.
///
/// It looks twice a second and catches the file up from the directory when a change was
/// applied since (a look costs one read of the revision).
struct AuditFileFollower: Service, CustomStringConvertible {
    let audit: AuditFileWriter
    let live: LiveDirectory

    var description: String { "AuditFileFollower" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var written: UInt64?
            while !Task.isCancelled {
                let revision = live.directory.revision
                if revision != written {
                    await audit.catchUp(with: live.directory.auditLog)
                    written = revision
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
