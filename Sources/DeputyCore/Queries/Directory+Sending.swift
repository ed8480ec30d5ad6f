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
        // The hot path of every mail server: two index lookups, then the mailbox's
        // delegations held by value. No user or group record is read.
        guard let (userID, loginEntry) = loginEntry(login) else { return .refuse(.unknownLogin) }
        guard !loginEntry.blocked else { return .refuse(.blockedLogin) }
        guard let target = addressEntry(lookup: address) else { return .refuse(.unknownAddress) }
        return sendDecision(userID: userID, memberships: loginEntry.groups, groupAddresses: loginEntry.groupAddresses, target: target, permission: permission, at: now)
    }

    /// The decision for a login that exists and is not blocked (with the groups it belongs
    /// to), and an address that exists.
    func sendDecision(
        userID: EntityID, memberships: [EntityID], groupAddresses: [EmailAddress], target: AddressEntry, permission: Permission, at now: Date
    ) -> SendDecision {
        // The address entry of a mailbox carries its delegations, so no further lookup is needed.
        switch target.owner {
        case .user(let id):
            if id == userID { return .allow(.ownAddress) }
        case .alias(let id):
            if id == userID { return .allow(.alias) }
        case .group(let groupID):
            if target.groupSendAs, memberships.contains(groupID) {
                return .allow(.groupMember(group: target.primary))
            }
            return .refuse(.notPermitted)
        }
        var viaGroup: SendDecision?
        for delegation in target.delegations {
            guard delegation.isActive(at: now), Self.permissions(delegation.permissions, allow: permission) else { continue }
            switch delegation.delegate {
            case .user(let id):
                // A direct grant is the clearest reason; prefer it over one through a group.
                if id == userID { return .allow(.delegation(owner: target.primary, delegation: delegation.id, viaGroup: nil)) }
            case .group(let groupID):
                guard viaGroup == nil else { continue }
                if let position = memberships.firstIndex(of: groupID), position < groupAddresses.count {
                    viaGroup = .allow(.delegation(owner: target.primary, delegation: delegation.id, viaGroup: groupAddresses[position]))
                }
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
        guard let target = addressEntry(lookup: address) else { return [] }
        var candidates: [EntityID] = []
        switch target.owner {
        case .user(let id), .alias(let id):
            candidates.append(id)
            for delegation in indexes.delegationsByMailbox[id] ?? [] {
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
            guard let user = users[candidate], !user.blocked else { continue }
            let memberships = indexes.groupsByMember[user.id] ?? []
            let decision = sendDecision(
                userID: user.id, memberships: memberships, groupAddresses: memberships.compactMap { groups[$0]?.address },
                target: target, permission: .sendAs, at: now
            )
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
