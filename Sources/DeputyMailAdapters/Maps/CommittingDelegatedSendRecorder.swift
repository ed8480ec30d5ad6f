import DeputyServer
import DeputyCore
import Foundation
import Logging

/// Writes each delegated send to the directory's audit log, as the command
/// ``DeputyCore/Command/recordDelegatedSend(login:sender:delegation:)`` applied by the
/// daemon itself through the single writer, so the record is as durable as any change.
///
/// The audit record reads `delegated-send` on the sender's address, with the login and the
/// delegation's identity.
public struct CommittingDelegatedSendRecorder: DelegatedSendRecorder {
    private let committer: any DirectoryCommitter
    private let logger: Logger

    /// Creates a recorder that commits through `committer` and logs its failures to `logger`.
    public init(committer: any DirectoryCommitter, logger: Logger) {
        self.committer = committer
        self.logger = logger
    }

    public func record(login: EmailAddress, sender: EmailAddress, delegation: DelegatedSendGrant, at time: Date) async {
        let command = Command.recordDelegatedSend(login: login, sender: sender, delegation: delegation.delegation)
        let metadata: Logger.Metadata = ["audit.login": "\(login)", "audit.sender": "\(sender)", "audit.grant": "\(delegation.delegation)"]
        do {
            if case .failure(let error) = try await committer.commit(command, context: CommandContext(actor: .system, time: time)) {
                // The delegation went away between the decision and the record; the decision
                // stands, and the log keeps what the audit log could not.
                logger.warning("delegated send not recorded in the audit log", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
        } catch {
            logger.error("delegated send not recorded: the store failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}
