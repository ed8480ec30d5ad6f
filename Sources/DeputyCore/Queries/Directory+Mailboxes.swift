import Foundation
import HashTreeCollections

/// The rights one user holds on one mailbox, and where they come from.
public struct MailboxAccess: Hashable, Sendable {
    /// The mailbox's primary address.
    public let mailbox: EmailAddress
    /// Whether the user owns the mailbox (and so holds every right).
    public let isOwner: Bool
    /// The rights held: every permission for the owner, else the union of active delegations.
    public let permissions: PermissionSet
    /// The active delegations that give them.
    public let grants: [Grant]

    /// One delegation behind an access.
    public struct Grant: Hashable, Sendable {
        public let delegation: EntityID
        public let permissions: PermissionSet
        /// The group through which the user holds it; `nil` for a direct delegation.
        public let viaGroup: EmailAddress?
        public let expiresAt: Date?
    }
}

/// A delegate of a mailbox, as listed by ``Directory/delegates(of:at:includeInactive:)``.
public struct DelegationView: Hashable, Sendable {
    public let delegation: EntityID
    /// The two addresses, held inline as the address index holds them: a `QUERY DELEGATES`
    /// answer writes each from here (``withMailboxUTF8(_:)``) and makes no `String` of
    /// either, where each was an allocation a record.
    let mailboxHeld: InlineAddress
    let delegateHeld: InlineAddress
    /// Whether the delegate is a group.
    public let delegateIsGroup: Bool
    public let permissions: PermissionSet
    /// Who granted it, as a login.
    public let grantedBy: String
    public let grantedAt: Date
    public let expiresAt: Date?
    /// Whether it counts now: not expired, and the delegate not blocked.
    public let active: Bool

    /// The mailbox's primary address.
    public var mailbox: EmailAddress { mailboxHeld.address }
    /// The delegate's address (a user's primary address or a group's address).
    public var delegate: EmailAddress { delegateHeld.address }

    /// Calls `body` with the UTF-8 bytes of ``mailbox``, valid only during the call.
    public func withMailboxUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try mailboxHeld.withUTF8(body)
    }

    /// Calls `body` with the UTF-8 bytes of ``delegate``, valid only during the call.
    public func withDelegateUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try delegateHeld.withUTF8(body)
    }

    // Equal as the fields are, the addresses as ``EmailAddress`` values (`String`'s
    // equality), not as the bytes held are.
    public static func == (lhs: DelegationView, rhs: DelegationView) -> Bool {
        lhs.delegation == rhs.delegation && lhs.mailbox == rhs.mailbox && lhs.delegate == rhs.delegate
            && lhs.delegateIsGroup == rhs.delegateIsGroup && lhs.permissions == rhs.permissions && lhs.grantedBy == rhs.grantedBy
            && lhs.grantedAt == rhs.grantedAt && lhs.expiresAt == rhs.expiresAt && lhs.active == rhs.active
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(delegation)
        hasher.combine(mailbox)
        hasher.combine(delegate)
        hasher.combine(delegateIsGroup)
        hasher.combine(permissions)
        hasher.combine(grantedBy)
        hasher.combine(grantedAt)
        hasher.combine(expiresAt)
        hasher.combine(active)
    }
}

extension Directory {
    /// The rights `user` holds on `mailbox` (a user's or a group's) at `now`. `nil` when
    /// either address is unknown.
    public func access(user login: String, mailbox: String, at now: Date) -> MailboxAccess? {
        guard let (userID, _) = loginEntry(login), let user = users[userID], let target = addressEntry(lookup: mailbox)
        else { return nil }
        switch target.owner {
        case .user(let id), .alias(let id), .group(let id): return access(user: user, mailbox: id, at: now)
        }
    }

    /// The rights `user` holds on the mailbox `mailboxID`, a user's or a group's. A group's
    /// members hold no right on its mailbox by membership alone: only delegations give them.
    /// `memberships` is the user's groups, nested ones included, when the caller has them
    /// (``mailboxes(of:at:)`` asks about many mailboxes for one user).
    func access(user: User, mailbox mailboxID: EntityID, at now: Date, memberships known: Set<EntityID>? = nil) -> MailboxAccess? {
        guard let address = users[mailboxID]?.address ?? groups[mailboxID]?.address else { return nil }
        if user.blocked {
            return MailboxAccess(mailbox: address, isOwner: false, permissions: .none, grants: [])
        }
        if user.id == mailboxID {
            return MailboxAccess(mailbox: address, isOwner: true, permissions: PermissionSet(Permission.allCases), grants: [])
        }
        var grants: [MailboxAccess.Grant] = []
        var permissions = PermissionSet.none
        // Through nested groups too: a delegation to a group reaches everyone inside it.
        let memberships = known ?? Set(effectiveGroups(ofUser: user.id))
        for delegation in indexes.delegationsByMailbox[mailboxID] ?? [] {
            guard delegation.isActive(at: now) else { continue }
            var viaGroup: EmailAddress?
            switch delegation.delegate {
            case .user(let id):
                guard id == user.id else { continue }
            case .group(let groupID):
                guard memberships.contains(groupID), let group = groups[groupID] else { continue }
                viaGroup = group.address
            }
            permissions = permissions.union(delegation.permissions)
            grants.append(.init(delegation: delegation.id, permissions: delegation.permissions, viaGroup: viaGroup, expiresAt: delegation.expiresAt))
        }
        return MailboxAccess(mailbox: address, isOwner: false, permissions: permissions, grants: grants)
    }

    /// The delegations of `mailbox` (a user's or a group's): by default only those that
    /// count at `now`. `nil` when no user or group has the address.
    public func delegates(of mailbox: String, at now: Date, includeInactive: Bool = false) -> [DelegationView]? {
        var views: [DelegationView] = []
        var granters = GranterLogins()
        let found = forEachDelegate(of: mailbox, at: now, includeInactive: includeInactive, granters: &granters) { views.append($0) }
        return found ? views : nil
    }

    /// Calls `body` with each delegation of `mailbox` that ``delegates(of:at:includeInactive:)``
    /// lists, in the same order, without gathering them: an answer writes each as it comes.
    /// Returns `false`, calling `body` never, when no user or group has the address.
    ///
    /// `granters` holds the logins of granters already met in this version of the directory,
    /// and is given those met now.
    public func forEachDelegate(
        of mailbox: String, at now: Date, includeInactive: Bool = false, granters: inout GranterLogins, _ body: (DelegationView) -> Void
    ) -> Bool {
        guard let entry = addressEntry(lookup: mailbox) else { return false }
        forEachDelegate(in: entry, at: now, includeInactive: includeInactive, granters: &granters, body)
        return true
    }

    /// ``forEachDelegate(of:at:includeInactive:granters:_:)`` for a mailbox given as a probe:
    /// the same delegations, without a `String` made of the address.
    public func forEachDelegate(
        of mailbox: AddressProbe, at now: Date, includeInactive: Bool = false, granters: inout GranterLogins, _ body: (DelegationView) -> Void
    ) -> Bool {
        guard let address = mailbox.address else { return false }
        // The entry borrowed, not counted: see ``AddressTable/withEntry(at:_:)``.
        return indexes.addresses.withEntry(at: address) { entry in
            guard let entry else { return false }
            forEachDelegate(in: entry, at: now, includeInactive: includeInactive, granters: &granters, body)
            return true
        }
    }

    private func forEachDelegate(
        in entry: AddressEntry, at now: Date, includeInactive: Bool, granters: inout GranterLogins, _ body: (DelegationView) -> Void
    ) {
        // Answered from the mailbox's address entry (a user's or a group's: a group's address
        // is a shared mailbox), which carries each delegation with its delegate's login and
        // blocked flag: reading users out of the directory's maps copies each whole,
        // retaining every string and array in it, on objects that every thread answering
        // shares.
        // The owner's login, as the entry holds it inline.
        let primary = entry.primaryHeld
        // Through a pointer, each field read where it is: an array's subscript copied each
        // grant whole, 144 bytes and the optional address inside it.
        entry.delegations.withUnsafeBufferPointer { grants in
            for index in grants.indices {
                let delegate: InlineAddress
                let isGroup: Bool
                switch grants[index].delegation.delegate {
                case .user:
                    guard let login = grants[index].delegateLogin else { continue }
                    delegate = login
                    isGroup = false
                case .group(let id):
                    guard let group = groups[id] else { continue }
                    delegate = InlineAddress(group.address)
                    isGroup = true
                }
                let active = grants[index].delegation.isActive(at: now) && !grants[index].delegateBlocked
                guard includeInactive || active else { continue }
                let grantedBy = granters.login(of: grants[index].delegation.grantedBy, in: self)
                body(DelegationView(
                    delegation: grants[index].delegation.id, mailboxHeld: primary, delegateHeld: delegate, delegateIsGroup: isGroup,
                    permissions: grants[index].delegation.permissions, grantedBy: grantedBy, grantedAt: grants[index].delegation.grantedAt,
                    expiresAt: grants[index].delegation.expiresAt, active: active
                ))
            }
        }
    }

    /// Every delegation of the organisation, for administrators, in order of creation.
    public func allDelegations(at now: Date) -> [DelegationView] {
        delegations.values.sorted { $0.id < $1.id }.compactMap { view(of: $0, at: now) }
    }

    /// The identities of every delegation, in order of creation: the order
    /// ``delegations(from:limit:at:order:)`` pages through.
    public var delegationOrder: [EntityID] { delegations.keys.sorted() }

    /// One page of ``allDelegations(at:)``: at most `limit` of them from the `offset`-th on
    /// (counted from 0), and how many there are from the `offset`-th on.
    ///
    /// Only the page's delegations are looked at beyond their identities: an administrator
    /// paging through an organisation's hundreds of thousands of delegations costs one sort
    /// of identities a page, not a view of every delegation, and none where the caller
    /// kept this version's ``delegationOrder`` from the page before.
    public func delegations(from offset: Int, limit: Int, at now: Date, order: [EntityID]? = nil) -> (page: [DelegationView], remaining: Int) {
        let identities = order ?? delegationOrder
        guard offset < identities.count else { return ([], 0) }
        let end = offset + min(limit, identities.count - offset)
        let page = identities[offset..<end].compactMap { delegations[$0].flatMap { view(of: $0, at: now) } }
        // A consistent directory has a view of every delegation (deleting a user or group
        // removes the delegations naming it), so the identities count them.
        return (page, identities.count - offset)
    }

    func view(of delegation: Delegation, at now: Date) -> DelegationView? {
        guard let mailbox = users[delegation.mailbox]?.address ?? groups[delegation.mailbox]?.address else { return nil }
        let delegateAddress: EmailAddress
        let isGroup: Bool
        var blocked = false
        switch delegation.delegate {
        case .user(let id):
            guard let user = users[id] else { return nil }
            delegateAddress = user.address
            blocked = user.blocked
            isGroup = false
        case .group(let id):
            guard let group = groups[id] else { return nil }
            delegateAddress = group.address
            isGroup = true
        }
        return DelegationView(
            delegation: delegation.id, mailboxHeld: InlineAddress(mailbox), delegateHeld: InlineAddress(delegateAddress), delegateIsGroup: isGroup,
            permissions: delegation.permissions, grantedBy: loginName(of: delegation.grantedBy),
            grantedAt: delegation.grantedAt, expiresAt: delegation.expiresAt,
            active: delegation.isActive(at: now) && !blocked
        )
    }

    /// Every mailbox `user` may open at `now` (own, and delegated with `read` or `manage`,
    /// users' and groups' shared mailboxes alike),
    /// with the rights held on each. `nil` when the login is unknown; empty when blocked.
    public func mailboxes(of login: String, at now: Date) -> [MailboxAccess]? {
        guard let (userID, _) = loginEntry(login), let user = users[userID] else { return nil }
        guard !user.blocked else { return [] }
        var mailboxIDs: [EntityID] = []
        var seen: Set<EntityID> = [user.id]
        let memberGroups = effectiveGroups(ofUser: user.id)
        let memberships = Set(memberGroups)
        let received = (indexes.delegationsByDelegate[.user(user.id)] ?? [])
            + memberGroups.flatMap { indexes.delegationsByDelegate[.group($0)] ?? [] }
        for delegationID in received {
            guard let delegation = delegations[delegationID], seen.insert(delegation.mailbox).inserted else { continue }
            mailboxIDs.append(delegation.mailbox)
        }
        var result = [access(user: user, mailbox: user.id, at: now)!]
        for mailboxID in mailboxIDs {
            guard let access = access(user: user, mailbox: mailboxID, at: now, memberships: memberships) else { continue }
            if access.permissions.contains(.read) { result.append(access) }
        }
        return result.sorted { ($0.isOwner ? 0 : 1, $0.mailbox) < ($1.isOwner ? 0 : 1, $1.mailbox) }
    }
}
