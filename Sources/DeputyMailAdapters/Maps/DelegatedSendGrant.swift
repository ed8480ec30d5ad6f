import DeputyServer
import DeputyCore

/// The delegation that allowed a login to send as someone else's address.
public struct DelegatedSendGrant: Hashable, Sendable {
    /// The delegation's identity, as `QUERY SENDAS` shows it in `grant=`.
    public let delegation: EntityID
    /// The primary address of the delegated mailbox.
    public let owner: EmailAddress
    /// The group through which the login holds it; `nil` for a direct delegation.
    public let viaGroup: EmailAddress?

    /// Creates a grant.
    public init(delegation: EntityID, owner: EmailAddress, viaGroup: EmailAddress?) {
        self.delegation = delegation
        self.owner = owner
        self.viaGroup = viaGroup
    }

    /// The grant behind `decision`, when a delegation allowed it.
    public init?(_ decision: SendDecision) {
        guard decision.allowed, case .delegation(let owner, let delegation, let viaGroup) = decision.reason else { return nil }
        self.init(delegation: delegation, owner: owner.address, viaGroup: viaGroup)
    }
}
