import HashTreeCollections
import Foundation

extension Directory {
    // MARK: - Index maintenance

    mutating func insertDelegation(_ delegation: Delegation) {
        delegations[delegation.id] = delegation
        indexes.delegationsByMailbox[delegation.mailbox, default: []].append(delegation)
        reindexDelegations(ofMailbox: delegation.mailbox)
        indexes.delegationsByDelegate.appendID(delegation.id, to: delegation.delegate)
    }

    /// The delegation of the mailbox `mailbox` to `delegate`, if there is one (there is at
    /// most one): found in the mailbox's few delegations rather than kept in a map of its
    /// own, which every delegation change would have to update as well.
    func delegation(ofMailbox mailbox: EntityID, to delegate: Delegate) -> EntityID? {
        indexes.delegationsByMailbox[mailbox]?.first { $0.delegate == delegate }?.id
    }

    mutating func removeDelegation(_ id: EntityID) {
        guard let delegation = delegations[id] else { return }
        var remaining = indexes.delegationsByMailbox[delegation.mailbox] ?? []
        remaining.removeAll { $0.id == id }
        indexes.delegationsByMailbox[delegation.mailbox] = remaining.isEmpty ? nil : remaining
        reindexDelegations(ofMailbox: delegation.mailbox)
        indexes.delegationsByDelegate.removeID(id, from: delegation.delegate)
        delegations[id] = nil
    }

    /// The delegate an address names: a user (by primary address or alias) or a group.
    func resolveDelegate(_ address: EmailAddress) throws(DirectoryError) -> Delegate {
        switch owner(of: address) {
        case .user(let id), .alias(let id): return .user(id)
        case .group(let id): return .group(id)
        case nil: throw .notFound("no user or group has the address \(address)")
        }
    }

    /// The mailbox an address names: a user's (by primary address or alias), or a group's,
    /// which is delegated like any mailbox (a shared mailbox).
    func resolveMailbox(_ address: EmailAddress) throws(DirectoryError) -> DelegatedMailbox {
        switch owner(of: address) {
        case .user(let id), .alias(let id):
            guard let user = users[id] else { break }
            return .user(user)
        case .group(let id):
            guard let group = groups[id] else { break }
            return .group(group)
        case nil:
            break
        }
        throw .notFound("no user or group has the address \(address)")
    }

    /// Who may delegate or undelegate a group's mailbox: whoever manages the group. Sending
    /// as a personal group's address is a right over that address, which only an
    /// administrator gives (as with the group's own `sendas=`).
    func requireMailboxDelegation(of group: Group, permissions: PermissionSet, actor: Actor) throws(DirectoryError) {
        try requireGroupManagement(group, actor: actor, action: "delegating a group's mailbox")
        if group.kind == .personal, permissions.contains(.sendAs) || permissions.contains(.sendOnBehalf) {
            try requirePersonalGroupSendAs(actor: actor)
        }
    }

    /// Who may give rights over a user's mailbox: its owner within their email policy (an
    /// administrator's own mailbox whatever the policy, which is what the organisation chose
    /// for it); someone else's, an administrator above its owner only, never the super
    /// administrator's or another administrator's.
    func requireMailboxDelegation(of owner: User, actor: Actor) throws(DirectoryError) {
        if actor.userID == owner.id {
            if !actor.isAdministrator, !effectivePolicy(for: owner).mailboxDelegationAllowed {
                throw DirectoryError(.policy, rule: .mailboxDelegation, "your email policy does not allow mailbox delegation")
            }
        } else {
            guard actor.isAdministrator else {
                throw .denied(.mailboxDelegation, "users may delegate only their own mailbox")
            }
            try actor.requireAuthority(over: owner, for: .delegateMailbox)
        }
    }

    /// New members of a group gain every delegation the group, or a group above it, holds:
    /// adding them gives rights over those mailboxes as a delegation would. So only someone
    /// who may make each of those delegations adds members (rule 9). Only delegations active
    /// at `now` count: an expired one gives nothing.
    func requireExtendingDelegations(heldBy groupID: EntityID, actor: Actor, at now: Date) throws(DirectoryError) {
        for holder in Self.expandUpwards([groupID], parents: { indexes.parentsByGroup[$0] }) {
            for id in indexes.delegationsByDelegate[.group(holder)] ?? [] {
                guard let delegation = delegations[id], delegation.isActive(at: now) else { continue }
                do {
                    if let owner = users[delegation.mailbox] {
                        try requireMailboxDelegation(of: owner, actor: actor)
                    } else if let mailbox = groups[delegation.mailbox] {
                        try requireMailboxDelegation(of: mailbox, permissions: delegation.permissions, actor: actor)
                    }
                } catch {
                    // Named only to those who may see the mailbox's delegations (administrators,
                    // and its owner): to anyone else the refusal would tell which mailbox the
                    // group holds, which every query keeps from them.
                    guard actor.isAdministrator || actor.userID == delegation.mailbox else {
                        throw DirectoryError(
                            error.code, rule: error.rule ?? .mailboxDelegation,
                            "new members would gain a delegation you may not give, which the group or a group above it holds"
                        )
                    }
                    let mailbox = users[delegation.mailbox]?.address ?? groups[delegation.mailbox]?.address
                    let via = holder == groupID ? "" : " through \(groups[holder]?.address.description ?? "a group above it")"
                    throw DirectoryError(
                        error.code, rule: error.rule ?? .mailboxDelegation,
                        "new members would gain the delegation of \(mailbox.map { "\($0)" } ?? "a mailbox")\(via), which you may not give: \(error.message)"
                    )
                }
            }
        }
    }

    // MARK: - Handlers

    /// Rule 9: a user delegates their own mailbox where their email policy allows it;
    /// administrators delegate the mailboxes of accounts below them (never the super
    /// administrator's or another administrator's). The delegate acts as itself.
    mutating func delegate(_ new: NewDelegation, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        let mailbox = try resolveMailbox(new.mailbox)
        let delegate = try resolveDelegate(new.delegate)
        let owner: User
        switch mailbox {
        case .user(let user):
            owner = user
        case .group(let group):
            try requireMailboxDelegation(of: group, permissions: new.permissions, actor: actor)
            guard delegate != .group(group.id) else { throw .invalid("a group's mailbox can't be delegated to the group itself") }
            return try storeDelegation(new, mailbox: group.id, address: group.address, delegate: delegate, actor: actor, time: time)
        }
        try requireMailboxDelegation(of: owner, actor: actor)
        guard delegate != .user(owner.id) else { throw .invalid("a mailbox can't be delegated to its owner") }
        return try storeDelegation(new, mailbox: owner.id, address: owner.address, delegate: delegate, actor: actor, time: time)
    }

    /// Stores a delegation the actor may make, or changes the one between the same mailbox
    /// and delegate.
    private mutating func storeDelegation(
        _ new: NewDelegation, mailbox: EntityID, address: EmailAddress, delegate: Delegate, actor: Actor, time: Date
    ) throws(DirectoryError) -> CommandResult {
        guard !new.permissions.isEmpty else { throw .invalid("a delegation needs at least one permission") }
        if let expiry = new.expiresAt, expiry <= time { throw .invalid("the expiry time is in the past") }

        if let existing = delegation(ofMailbox: mailbox, to: delegate) {
            var updated = delegations[existing]!
            updated.permissions = new.permissions
            updated.expiresAt = new.expiresAt
            updated.grantedBy = actor.principal
            updated.grantedAt = time
            delegations[existing] = updated
            if var list = indexes.delegationsByMailbox[mailbox], let position = list.firstIndex(where: { $0.id == existing }) {
                list[position] = updated
                indexes.delegationsByMailbox[mailbox] = list
            }
            reindexDelegations(ofMailbox: mailbox)
            return CommandResult(entity: existing, summary: "delegation of \(address) to \(new.delegate) changed to \(new.permissions)")
        }
        let delegation = Delegation(
            id: allocateIdentity(), mailbox: mailbox, delegate: delegate, permissions: new.permissions,
            grantedBy: actor.principal, grantedAt: time, expiresAt: new.expiresAt
        )
        insertDelegation(delegation)
        return CommandResult(entity: delegation.id, summary: "\(address) delegated to \(new.delegate) with \(new.permissions)")
    }

    /// The owner removes delegations of their mailbox (even where policy no longer allows
    /// creating them), a delegate may give one up, and administrators remove those of
    /// accounts below them.
    mutating func undelegate(mailbox: EmailAddress, delegate address: EmailAddress, actor: Actor) throws(DirectoryError) -> CommandResult {
        let target = try resolveMailbox(mailbox)
        let delegate = try resolveDelegate(address)
        let owner: User
        switch target {
        case .user(let user):
            owner = user
        case .group(let group):
            // Whoever manages the group, and the delegate giving it up.
            if delegate != actor.userID.map(Delegate.user) {
                try requireGroupManagement(group, actor: actor, action: "undelegating a group's mailbox")
            }
            guard let id = delegation(ofMailbox: group.id, to: delegate) else {
                throw .notFound("\(mailbox) is not delegated to \(address)")
            }
            removeDelegation(id)
            return CommandResult(entity: id, summary: "delegation of \(group.address) to \(address) removed")
        }
        // Permission first, so that someone who may not see a mailbox's delegations can't
        // learn whether one exists from the answer.
        if actor.userID != owner.id, delegate != actor.userID.map(Delegate.user) {
            guard actor.isAdministrator else {
                throw .denied(.mailboxDelegation, "only administrators, the mailbox owner and the delegate may remove a delegation")
            }
            try actor.requireAuthority(over: owner, for: .undelegateMailbox)
        }
        guard let id = delegation(ofMailbox: owner.id, to: delegate) else {
            throw .notFound("\(mailbox) is not delegated to \(address)")
        }
        removeDelegation(id)
        return CommandResult(entity: id, summary: "delegation of \(owner.address) to \(address) removed")
    }
}

/// A mailbox that can be delegated: a user's, or a group's shared mailbox.
enum DelegatedMailbox {
    case user(User)
    case group(Group)
}
