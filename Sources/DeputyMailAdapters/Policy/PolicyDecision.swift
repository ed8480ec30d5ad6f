import DeputyServer
import DeputyCore
import Foundation

/// The policy service's answer to one request, with the delegation it relied on.
public struct PolicyDecision: Hashable, Sendable {
    /// What to tell Postfix.
    public let action: PolicyAction
    /// The login and sender of a send that a delegation allowed, to record.
    public let delegatedSend: DelegatedSend?

    /// A send allowed by a delegation.
    public struct DelegatedSend: Hashable, Sendable {
        /// Who sent: the SMTP AUTH login.
        public let login: EmailAddress
        /// As whom: the envelope sender.
        public let sender: EmailAddress
        /// The delegation that allowed it.
        public let grant: DelegatedSendGrant
    }

    init(_ action: PolicyAction, delegatedSend: DelegatedSend? = nil) {
        self.action = action
        self.delegatedSend = delegatedSend
    }

    /// Decides a request against one version of the directory.
    ///
    /// - The null sender (bounces) is no one's: `DUNNO`.
    /// - Logged in: ``DeputyCore/Directory/sendAs(login:address:at:)`` decides, the same
    ///   function as `QUERY SENDAS` and the `senders` map; allowed is `DUNNO`, refused is
    ///   `REJECT 5.7.1` with the reason.
    /// - Not logged in: a sender address of one of the organisation's domains (owned or
    ///   not) is refused, since only its users may use those; any other sender is `DUNNO`.
    /// - With `delimiter`, a sender the directory does not know as written is decided
    ///   without its extension: `alice+lists@` is alice's to use.
    public static func decide(_ request: PolicyRequest, in directory: Directory, at now: Date, delimiter: RecipientDelimiter?) -> PolicyDecision {
        guard !request.sender.isEmpty else { return PolicyDecision(.dunno) }
        let sender = directory.extended(request.sender, delimiter: delimiter).address
        let login = request.saslUsername
        guard !login.isEmpty else {
            guard directory.isOrganizationSender(sender) else { return PolicyDecision(.dunno) }
            return PolicyDecision(.reject("5.7.1 not logged in: log in to send as \(sender)"))
        }
        let decision = directory.sendAs(login: login, address: sender, at: now)
        guard decision.allowed else {
            return PolicyDecision(.reject("5.7.1 " + refusal(decision, login: login, sender: sender, directory: directory)))
        }
        if let grant = DelegatedSendGrant(decision), let loginAddress = EmailAddress(login), let senderAddress = EmailAddress(sender) {
            return PolicyDecision(.dunno, delegatedSend: DelegatedSend(login: loginAddress, sender: senderAddress, grant: grant))
        }
        return PolicyDecision(.dunno)
    }

    private static func refusal(_ decision: SendDecision, login: String, sender: String, directory: Directory) -> String {
        let hosted = EmailAddress(sender).map { directory.organization?.hosts($0.domain) == true } ?? false
        return decision.refusalText(login: login, address: sender, hosted: hosted)
    }
}
