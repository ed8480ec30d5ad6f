/// The answer to "may this login send as (or on behalf of) this address?", with the reason.
public struct SendDecision: Hashable, Sendable {
    /// Why the answer is what it is.
    public enum Reason: Hashable, Sendable {
        /// The address is the login's own primary address.
        case ownAddress
        /// The address is one of the login's aliases.
        case alias
        /// A delegation from the mailbox's owner allows it, directly or through a group.
        case delegation(owner: EmailAddress, delegation: EntityID, viaGroup: EmailAddress?)
        /// The address is a group's that lets its members send as it.
        case groupMember(group: EmailAddress)
        /// The login is not a user of the directory.
        case unknownLogin
        /// The login's account is blocked.
        case blockedLogin
        /// No user or group has the address.
        case unknownAddress
        /// The address belongs to someone else and nothing allows it.
        case notPermitted
    }

    /// Whether it is allowed.
    public let allowed: Bool
    /// Why.
    public let reason: Reason

    static func allow(_ reason: Reason) -> SendDecision { SendDecision(allowed: true, reason: reason) }
    static func refuse(_ reason: Reason) -> SendDecision { SendDecision(allowed: false, reason: reason) }

    /// A stable word for the reason, as the protocol shows it in `via=`: `own`, `alias`,
    /// `delegation`, `group`, `unknown-login`, `blocked`, `unknown-address`, `none`.
    public var via: String {
        switch reason {
        case .ownAddress: "own"
        case .alias: "alias"
        case .delegation: "delegation"
        case .groupMember: "group"
        case .unknownLogin: "unknown-login"
        case .blockedLogin: "blocked"
        case .unknownAddress: "unknown-address"
        case .notPermitted: "none"
        }
    }
}
