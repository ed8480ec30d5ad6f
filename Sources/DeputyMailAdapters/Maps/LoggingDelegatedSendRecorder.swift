import DeputyServer
import DeputyCore
import Foundation
import Logging

/// Writes each delegated send to a logger at `notice` level, with its details as metadata
/// (`audit.login`, `audit.sender`, `audit.grant`, `audit.owner`, `audit.via-group`,
/// `audit.time`).
///
/// For deployments that ship their logs to an audit system of their own; the daemon's
/// audit log is written by ``CommittingDelegatedSendRecorder``.
public struct LoggingDelegatedSendRecorder: DelegatedSendRecorder {
    private let logger: Logger

    /// Creates a recorder that writes to `logger`.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func record(login: EmailAddress, sender: EmailAddress, delegation: DelegatedSendGrant, at time: Date) async {
        var metadata: Logger.Metadata = [
            "audit.login": "\(login)", "audit.sender": "\(sender)", "audit.grant": "\(delegation.delegation)",
            "audit.owner": "\(delegation.owner)", "audit.time": "\(Timestamp.format(time))",
        ]
        if let group = delegation.viaGroup { metadata["audit.via-group"] = "\(group)" }
        logger.notice("delegated send", metadata: metadata)
    }
}
