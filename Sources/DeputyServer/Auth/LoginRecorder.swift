import DeputyCore
import Foundation
import Logging

/// Where failed logins and lockouts are written, so that the Helpdesk role sees an attack in
/// the audit log.
///
/// Implementations must not throw: they log their own failures. A login's answer waits for
/// the record, so it should be quick.
public protocol LoginRecorder: Sendable {
    /// Records a failed login whose password was judged, and the lock a failure caused, if
    /// any (an attempt the throttle refused unread records only the lock it caused).
    func recordFailure(_ attempt: LoginAttempt, judged: Bool, lock: LoginThrottle.Lock?, at time: Date) async
}

/// Writes failed logins and lockouts to the directory's audit log, as commands applied by the
/// daemon itself through the single writer.
public struct CommittingLoginRecorder: LoginRecorder {
    private let committer: any DirectoryCommitter
    private let logger: Logger

    /// Creates a recorder that commits through `committer` and logs its failures to `logger`.
    public init(committer: any DirectoryCommitter, logger: Logger) {
        self.committer = committer
        self.logger = logger
    }

    public func recordFailure(_ attempt: LoginAttempt, judged: Bool, lock: LoginThrottle.Lock?, at time: Date) async {
        var commands: [Command] = judged ? [.recordLoginFailure(attempt)] : []
        if let lock {
            var locked = attempt
            locked.locked = lock.rawValue
            commands.append(.recordLockout(locked))
        }
        for command in commands {
            do {
                _ = try await committer.commit(command, context: CommandContext(actor: .system, time: time))
            } catch {
                logger.error("failed login not recorded in the audit log: the store failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
