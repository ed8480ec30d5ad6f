import Foundation
import HashTreeCollections

/// One permission one login holds on one mailbox, and how: the answer of the reverse
/// queries ``Directory/holders(of:permissions:at:)`` and ``Directory/rights(of:at:)``.
public struct RightEntry: Hashable, Sendable {
    /// The login that holds it.
    public let login: EmailAddress
    /// The mailbox's address as asked, or its primary address.
    public let mailbox: EmailAddress
    /// The permission.
    public let permission: Permission
    /// The decision that allows it, with its reason.
    public let decision: SendDecision
}

extension Directory {
    /// Everyone who may use `address` with any of `permissions` at `now`, with how: the
    /// owner, delegates directly or through a group (each member listed), and for a
    /// group's address with `sendas=yes`, its members. Each candidate passes through
    /// ``decide(login:address:permission:at:)``, so the answers agree with the single
    /// checks. Empty for an unknown address.
    public func holders(of address: String, permissions: [Permission] = Permission.allCases, at now: Date) -> [RightEntry] {
        guard let target = addressEntry(lookup: address) else { return [] }
        var entries: [RightEntry] = []
        for candidate in candidates(for: target) {
            for permission in permissions {
                let decision = sendDecision(userID: candidate.id, login: candidate.login, target: target, permission: permission, at: now)
                if decision.allowed {
                    entries.append(RightEntry(login: candidate.login.primary, mailbox: target.primary, permission: permission, decision: decision))
                }
            }
        }
        return entries.sorted { ($0.login, $0.permission) < ($1.login, $1.permission) }
    }

    /// Everything `login` may do anywhere at `now`: each permission on its own mailbox, on
    /// every mailbox delegated to it (directly or through a group, however nested), and
    /// sending as every group it is inside that lets its members send as it; with how. `nil` for an unknown login, empty
    /// for a blocked one.
    public func rights(of login: String, at now: Date) -> [RightEntry]? {
        guard let (userID, loginEntry) = loginEntry(login), let user = users[userID] else { return nil }
        guard !user.blocked else { return [] }
        var mailboxes: [EntityID] = [userID]
        // Through nested groups too, as the single checks go.
        let memberships = effectiveGroups(ofUser: userID)
        let received = (indexes.delegationsByDelegate[.user(userID)] ?? [])
            + memberships.flatMap { indexes.delegationsByDelegate[.group($0)] ?? [] }
        mailboxes.append(contentsOf: received.compactMap { delegations[$0]?.mailbox })
        mailboxes.append(contentsOf: memberships.filter { groups[$0]?.membersMaySendAs == true })
        var seen: Set<EntityID> = []
        var entries: [RightEntry] = []
        for mailbox in mailboxes where seen.insert(mailbox).inserted {
            guard let address = users[mailbox]?.address ?? groups[mailbox]?.address, let target = indexes.addresses[AddressKey(address)] else { continue }
            for permission in Permission.allCases {
                let decision = sendDecision(userID: userID, login: loginEntry, target: target, permission: permission, at: now)
                if decision.allowed {
                    entries.append(RightEntry(login: user.address, mailbox: target.primary, permission: permission, decision: decision))
                }
            }
        }
        return entries.sorted { ($0.mailbox == user.address ? 0 : 1, $0.mailbox, $0.permission) < ($1.mailbox == user.address ? 0 : 1, $1.mailbox, $1.permission) }
    }
}
