import Foundation
import HashTreeCollections

extension Directory {
    /// May `login` send mail with `address` as the sender? The one function that decides,
    /// used by the protocol's `QUERY SENDAS` and by every mail-server map.
    ///
    /// Allowed for the address's owner (primary address or alias), for delegates holding
    /// `sendas` directly or through a group, and for members of a group that lets its members
    /// send as it. Expired delegations and blocked logins never count.
    public func sendAs(login: String, address: String, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendAs, at: now)
    }

    /// May `login` send on behalf of `address`? As ``sendAs(login:address:at:)`` with the
    /// `sendonbehalf` permission; `sendas`, the stronger right, also allows it.
    public func sendOnBehalf(login: String, address: String, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendOnBehalf, at: now)
    }

    private func sendDecision(login: String, address: String, permission: Permission, at now: Date) -> SendDecision {
        guard let loginAddress = EmailAddress(login), case .user(let userID) = indexes.addressOwners[loginAddress.value],
            let user = users[userID]
        else { return .refuse(.unknownLogin) }
        guard let target = EmailAddress(address), let owner = indexes.addressOwners[target.value] else {
            return user.blocked ? .refuse(.blockedLogin) : .refuse(.unknownAddress)
        }
        return sendDecision(user: user, owner: owner, permission: permission, at: now)
    }

    /// The decision for a resolved user and address owner.
    func sendDecision(user: User, owner: AddressOwner, permission: Permission, at now: Date) -> SendDecision {
        guard !user.blocked else { return .refuse(.blockedLogin) }
        let mailbox: EntityID
        switch owner {
        case .user(let id):
            if id == user.id { return .allow(.ownAddress) }
            mailbox = id
        case .alias(let id):
            if id == user.id { return .allow(.alias) }
            mailbox = id
        case .group(let groupID):
            guard let group = groups[groupID] else { return .refuse(.unknownAddress) }
            if group.membersMaySendAs, group.members.contains(.user(user.id)) {
                return .allow(.groupMember(group: group.address))
            }
            return .refuse(.notPermitted)
        }
        return delegationDecision(user: user, mailbox: mailbox, permission: permission, at: now)
    }

    private func delegationDecision(user: User, mailbox: EntityID, permission: Permission, at now: Date) -> SendDecision {
        guard let ownerAddress = users[mailbox]?.address else { return .refuse(.unknownAddress) }
        var viaGroup: SendDecision?
        for delegationID in indexes.delegationsByMailbox[mailbox] ?? [] {
            guard let delegation = delegations[delegationID], delegation.isActive(at: now),
                Self.permissions(delegation.permissions, allow: permission)
            else { continue }
            switch delegation.delegate {
            case .user(let id) where id == user.id:
                // A direct grant is the clearest reason; prefer it over one through a group.
                return .allow(.delegation(owner: ownerAddress, delegation: delegation.id, viaGroup: nil))
            case .group(let groupID):
                if viaGroup == nil, let group = groups[groupID], group.members.contains(.user(user.id)) {
                    viaGroup = .allow(.delegation(owner: ownerAddress, delegation: delegation.id, viaGroup: group.address))
                }
            case .user:
                continue
            }
        }
        return viaGroup ?? .refuse(.notPermitted)
    }

    static func permissions(_ held: PermissionSet, allow wanted: Permission) -> Bool {
        if held.contains(wanted) { return true }
        return wanted == .sendOnBehalf && held.contains(.sendAs)
    }

    /// The logins that may use `address` as their envelope sender: the reverse map Postfix's
    /// `smtpd_sender_login_maps` needs. Each candidate passes through the same decision as
    /// ``sendAs(login:address:at:)``, so the two always agree.
    public func senders(of address: String, at now: Date) -> [SenderEntry] {
        guard let target = EmailAddress(address), let owner = indexes.addressOwners[target.value] else { return [] }
        var candidates: [EntityID] = []
        switch owner {
        case .user(let id), .alias(let id):
            candidates.append(id)
            for delegationID in indexes.delegationsByMailbox[id] ?? [] {
                guard let delegation = delegations[delegationID] else { continue }
                switch delegation.delegate {
                case .user(let delegateID): candidates.append(delegateID)
                case .group(let groupID): candidates.append(contentsOf: userMembers(of: groupID))
                }
            }
        case .group(let groupID):
            candidates.append(contentsOf: userMembers(of: groupID))
        }
        var seen: Set<EntityID> = []
        var entries: [SenderEntry] = []
        for candidate in candidates where seen.insert(candidate).inserted {
            guard let user = users[candidate] else { continue }
            let decision = sendDecision(user: user, owner: owner, permission: .sendAs, at: now)
            if decision.allowed { entries.append(SenderEntry(login: user.address, decision: decision)) }
        }
        return entries.sorted { $0.login < $1.login }
    }

    func userMembers(of groupID: EntityID) -> [EntityID] {
        guard let group = groups[groupID] else { return [] }
        return group.members.compactMap { member in
            if case .user(let id) = member { return id }
            return nil
        }
    }
}

/// One login allowed to send as an address, with the reason.
public struct SenderEntry: Hashable, Sendable {
    /// The login.
    public let login: EmailAddress
    /// The decision that allows it.
    public let decision: SendDecision
}
