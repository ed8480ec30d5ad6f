import DeputyServer
import DeputyCore
import Foundation

/// Where the policy service writes each send that a delegation allowed: who sent as whom,
/// under which grant.
///
/// The policy service awaits the recorder before it answers Postfix, so no delegated send
/// is let through unrecorded. An implementation should therefore be quick, and must not
/// throw: it logs its own failures.
public protocol DelegatedSendRecorder: Sendable {
    /// Records that `login` was allowed to send as `sender` at `time` because of `delegation`.
    func record(login: EmailAddress, sender: EmailAddress, delegation: DelegatedSendGrant, at time: Date) async
}
