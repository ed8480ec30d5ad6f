import DeputyServer
import DeputyCore
import Foundation

/// One send that a delegation allowed: who sent as whom, under which grant, with which
/// permission, and what the mail server knew of the message.
public struct DelegatedSendEvent: Hashable, Sendable {
    /// Who sent: the SMTP AUTH login.
    public let login: EmailAddress
    /// As whom: the envelope sender or the `From:` address.
    public let sender: EmailAddress
    /// The delegation that allowed it.
    public let grant: DelegatedSendGrant
    /// The permission, queue id, Message-ID and deciding path.
    public let details: DelegatedSendDetails

    /// Creates an event.
    public init(login: EmailAddress, sender: EmailAddress, grant: DelegatedSendGrant, details: DelegatedSendDetails) {
        self.login = login
        self.sender = sender
        self.grant = grant
        self.details = details
    }
}

/// Where the policy service and the milter write each send that a delegation allowed.
///
/// Both await the recorder before they answer Postfix, so no delegated send is let
/// through unrecorded. An implementation should therefore be quick, and must not throw:
/// it logs its own failures.
public protocol DelegatedSendRecorder: Sendable {
    /// Records `event`, which happened at `time`.
    func record(_ event: DelegatedSendEvent, at time: Date) async
}
