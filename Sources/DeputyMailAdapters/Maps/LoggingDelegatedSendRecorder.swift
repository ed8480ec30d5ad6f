import DeputyServer
import DeputyCore
import Foundation
import Logging

/// Writes each delegated send to a logger at `notice` level, with its details as metadata
/// (`audit.login`, `audit.sender`, `audit.grant`, `audit.owner`, `audit.via-group`,
/// `audit.time`, `audit.permission`, `audit.path`, `audit.queue-id`, `audit.message-id`).
///
/// For deployments that ship their logs to an audit system of their own; the daemon's
/// audit log is written by ``CommittingDelegatedSendRecorder``.
public struct LoggingDelegatedSendRecorder: DelegatedSendRecorder {
    private let logger: Logger

    /// Creates a recorder that writes to `logger`.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func record(_ event: DelegatedSendEvent, at time: Date) async {
        var metadata: Logger.Metadata = [
            "audit.login": "\(event.login)", "audit.sender": "\(event.sender)", "audit.grant": "\(event.grant.delegation)",
            "audit.owner": "\(event.grant.owner)", "audit.time": "\(Timestamp.format(time))",
            "audit.permission": "\(event.details.permission.rawValue)", "audit.path": "\(event.details.path)",
        ]
        if let group = event.grant.viaGroup { metadata["audit.via-group"] = "\(group)" }
        if let queueID = event.details.queueID { metadata["audit.queue-id"] = "\(queueID)" }
        if let messageID = event.details.messageID { metadata["audit.message-id"] = "\(messageID)" }
        logger.notice("delegated send", metadata: metadata)
    }
}
