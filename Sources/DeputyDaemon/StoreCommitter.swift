import DeputyCore
import DeputyServer
import DeputyStore
import Logging
import ServiceLifecycle

/// The durable store as the daemon's single writer: a change is answered only once its
/// journal record is on disk.
struct StoreCommitter: DirectoryCommitter {
    let store: Store
    /// The audit log file, when one is configured: it follows each change.
    var audit: AuditFileWriter?

    var live: LiveDirectory { store.live }

    func commit(_ command: Command, context: CommandContext) async throws -> Committed {
        let outcome: CommitOutcome
        do {
            outcome = try await store.commit(command, context: context)
        } catch where error.code == .outcomeUnknown {
            throw CommitOutcomeUnknown(error.description)
        }
        if let audit { await audit.catchUp(with: store.directory.auditLog) }
        return Committed(result: outcome.result, revision: outcome.sequence)
    }

    func snapshot() async throws -> String {
        let summary = try await store.snapshot()
        return "snapshot written at sequence \(summary.sequence), \(summary.bytes) bytes"
    }
}

/// Takes snapshots when they are due (every N records or T seconds) and, once the
/// listeners have stopped, closes the store with a final snapshot.
///
/// It comes first in the service group, so it stops last: after every connection has
/// finished the request it had in hand.
struct StoreMaintenance: Service, CustomStringConvertible {
    let store: Store
    let logger: Logger

    var description: String { "StoreMaintenance" }

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                break
            }
            do {
                if let summary = try await store.snapshotIfDue() {
                    logger.info("snapshot written", metadata: ["store.sequence": "\(summary.sequence)", "store.bytes": "\(summary.bytes)"])
                }
            } catch {
                logger.error("snapshot failed", metadata: ["error": "\(error)"])
            }
        }
        do {
            try await store.close()
            logger.notice("store closed with a final snapshot")
        } catch {
            logger.error("closing the store failed; the journal holds every acknowledged change", metadata: ["error": "\(error)"])
        }
    }
}
