/// The answer to "may this login send as (or on behalf of) this address?", with the reason.
public struct SendDecision: Hashable, Sendable {
    /// Why the answer is what it is.
    public enum Reason: Hashable, Sendable {
        /// The address is the login's own primary address.
        case ownAddress
        /// The address is one of the login's aliases.
        case alias
        /// A delegation from the mailbox's owner allows it, directly or through a group.
        case delegation(owner: HeldAddress, delegation: EntityID, viaGroup: EmailAddress?)
        /// The address is a group's that lets its members send as it.
        case groupMember(group: EmailAddress)
        /// The login is not a user of the directory.
        case unknownLogin
        /// The login's account is blocked, and the address is someone else's.
        case blockedLogin
        /// The login's account is blocked, and the address is its own.
        case ownerBlocked
        /// No user or group has the address.
        case unknownAddress
        /// A delegation to the login (directly or through a group) would allow it, but has expired.
        case expired(delegation: EntityID)
        /// The login holds a delegation on the mailbox, without the permission asked for.
        case lacksPermission(delegation: EntityID)
        /// The address is a group's that does not let its members send as it (`sendas=no`),
        /// the login is a member, and no delegation allows it.
        case groupSendAsOff(group: EmailAddress)
        /// The address belongs to someone else and the login holds no delegation on it.
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
        case .ownerBlocked: "blocked"
        case .expired, .lacksPermission, .groupSendAsOff, .notPermitted: "none"
        }
    }

    /// Why a refusal refuses, as the protocol shows it in `reason=`: `expired`,
    /// `lacks-permission`, `delegate-blocked`, `owner-blocked`, `policy`, `unknown-login`,
    /// `unknown-address`; `nil` when allowed.
    public var refusal: String? {
        switch reason {
        case .ownAddress, .alias, .delegation, .groupMember: nil
        case .unknownLogin: "unknown-login"
        case .blockedLogin: "delegate-blocked"
        case .ownerBlocked: "owner-blocked"
        case .unknownAddress: "unknown-address"
        case .expired: "expired"
        case .lacksPermission, .notPermitted: "lacks-permission"
        case .groupSendAsOff: "policy"
        }
    }

    /// The delegation a refusal is about: one that has expired or lacks the permission.
    public var refusingGrant: EntityID? {
        switch reason {
        case .expired(let delegation), .lacksPermission(let delegation): delegation
        default: nil
        }
    }
}

extension SendDecision {
    /// A refusal in words for a mail server's reply, ending with the `reason=` (and
    /// `grant=`) that `QUERY SENDAS` shows, so the envelope and header checks explain
    /// themselves alike. `hosted` says whether the address's domain is the organisation's.
    public func refusalText(login: String, address: String, permission: Permission = .sendAs, hosted: Bool) -> String {
        let action = permission == .sendOnBehalf ? "send on behalf of" : "send as"
        let sentence: String
        switch reason {
        case .unknownLogin:
            sentence = "\(login) is not a login of this organisation"
        case .blockedLogin, .ownerBlocked:
            sentence = "the account \(login) is blocked"
        case .unknownAddress:
            sentence = hosted
                ? "no user or group has the address \(address)"
                : "\(login) may send only as addresses of this organisation, not as \(address)"
        case .expired:
            sentence = "\(login) is not allowed to \(action) \(address): the delegation has expired"
        case .lacksPermission:
            sentence = "\(login) is not allowed to \(action) \(address): the delegation does not include it"
        case .groupSendAsOff(let group):
            sentence = "\(login) is not allowed to \(action) \(address): \(group) does not let its members send as it"
        case .notPermitted, .ownAddress, .alias, .delegation, .groupMember:
            sentence = "\(login) is not allowed to \(action) \(address)"
        }
        var detail = refusal.map { " (reason=\($0)" } ?? " ("
        if let grant = refusingGrant { detail += " grant=\(grant)" }
        return allowed ? sentence : sentence + detail + ")"
    }
}
