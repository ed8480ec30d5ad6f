import Foundation
import HashTreeCollections

/// One user's rights on a mailbox not their own (a user's or a group's), from every
/// delegation that reaches them, directly or through groups: what ``Directory/mailboxes(of:at:)``
/// gives that user for that mailbox.
public struct DelegatedAccess: Hashable, Sendable {
    /// The mailbox's primary address.
    public let mailbox: EmailAddress
    /// The user's login.
    public let delegate: EmailAddress
    /// The union of the active delegations' permissions; it always includes `read`.
    public let permissions: PermissionSet
    /// The earliest expiry among those delegations, when the rights change next; `nil`
    /// when none of them expires.
    public let nextExpiry: Date?

    public init(mailbox: EmailAddress, delegate: EmailAddress, permissions: PermissionSet, nextExpiry: Date?) {
        self.mailbox = mailbox
        self.delegate = delegate
        self.permissions = permissions
        self.nextExpiry = nextExpiry
    }
}

extension Directory {
    /// Every user's access to the mailboxes delegated to them, in no particular order: for
    /// each user, exactly the entries of ``mailboxes(of:at:)`` that they do not own.
    ///
    /// One pass over the delegations, each group's users found once, where asking
    /// ``mailboxes(of:at:)`` of every delegate looked each delegation up again for each user
    /// it reaches and copied each user out of the map: a file of every delegation, such as
    /// Dovecot's ACL file, is made in a fraction of the time, so a delegation taken away
    /// leaves it sooner.
    public func delegatedMailboxAccess(at now: Date) -> [DelegatedAccess] {
        struct Pair: Hashable {
            let mailbox: EntityID
            let user: EntityID
        }
        var gathered: [Pair: (permissions: PermissionSet, nextExpiry: Date?)] = [:]
        var usersByGroup: [EntityID: [EntityID]] = [:]
        for delegation in delegations.values where delegation.isActive(at: now) {
            let reached: [EntityID]
            switch delegation.delegate {
            case .user(let id):
                reached = [id]
            case .group(let groupID):
                if let known = usersByGroup[groupID] {
                    reached = known
                } else {
                    reached = usersUnder(group: groupID)
                    usersByGroup[groupID] = reached
                }
            }
            for user in reached where user != delegation.mailbox {
                let pair = Pair(mailbox: delegation.mailbox, user: user)
                let before = gathered[pair]
                let expiry: Date? = switch (before?.nextExpiry, delegation.expiresAt) {
                case (let earlier?, let this?): min(earlier, this)
                case (let earlier, nil): earlier
                case (nil, let this): this
                }
                gathered[pair] = ((before?.permissions ?? .none).union(delegation.permissions), expiry)
            }
        }
        // Each account's address looked up once: a user reached by many delegations, or a
        // mailbox delegated to many, would otherwise be copied out of the map every time.
        var delegateAddresses: [EntityID: EmailAddress?] = [:]
        var mailboxAddresses: [EntityID: EmailAddress?] = [:]
        var result: [DelegatedAccess] = []
        result.reserveCapacity(gathered.count)
        for (pair, access) in gathered where access.permissions.contains(.read) {
            let delegate = Self.remembered(pair.user, in: &delegateAddresses) {
                // A blocked user opens no mailbox but their own, and that one is not here.
                users[$0].flatMap { $0.blocked ? nil : $0.address }
            }
            let mailbox = Self.remembered(pair.mailbox, in: &mailboxAddresses) { users[$0]?.address ?? groups[$0]?.address }
            guard let delegate, let mailbox else { continue }
            result.append(DelegatedAccess(mailbox: mailbox, delegate: delegate, permissions: access.permissions, nextExpiry: access.nextExpiry))
        }
        return result
    }

    private static func remembered(_ id: EntityID, in known: inout [EntityID: EmailAddress?], _ lookUp: (EntityID) -> EmailAddress?) -> EmailAddress? {
        if let address = known[id] { return address }
        let address = lookUp(id)
        known[id] = .some(address)
        return address
    }
}
