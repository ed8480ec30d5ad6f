import Foundation
import HashTreeCollections

/// The whole directory of one organisation, as an immutable value.
///
/// Every collection is a persistent hash tree (`TreeDictionary`), so a change makes a new
/// version in O(log n) and shares everything else with the old one. The daemon's single
/// writer applies commands to its copy and publishes the result; readers keep whichever
/// version they hold and never wait for a write.
public struct Directory: Sendable {
    /// The organisation; `nil` only before ``Command/createOrganization(_:)``.
    public internal(set) var organization: Organization?
    /// The users, by identity.
    public internal(set) var users: TreeDictionary<EntityID, User>
    /// The groups, by identity.
    public internal(set) var groups: TreeDictionary<EntityID, Group>
    /// The service accounts, by identity.
    public internal(set) var services: TreeDictionary<EntityID, ServiceAccount>
    /// The mailbox delegations, by identity.
    public internal(set) var delegations: TreeDictionary<EntityID, Delegation>
    /// The email policies, by name.
    public internal(set) var policies: TreeDictionary<String, EmailPolicy>
    /// The spam control settings.
    public internal(set) var spamSettings: SpamSettings
    /// The audit log.
    public internal(set) var auditLog: AuditLog
    /// The users' second factors, by user.
    public internal(set) var secondFactors: TreeDictionary<EntityID, SecondFactor>
    /// The identity of the super administrator.
    public internal(set) var superAdministrator: EntityID?
    /// How many commands (applied or refused) this version has seen.
    public internal(set) var revision: UInt64
    /// The next identity to hand out.
    public internal(set) var nextIdentity: UInt64

    var indexes: DirectoryIndexes

    /// An empty directory, before the organisation exists.
    public init() {
        organization = nil
        users = [:]
        groups = [:]
        services = [:]
        delegations = [:]
        policies = [:]
        spamSettings = SpamSettings()
        auditLog = AuditLog()
        secondFactors = [:]
        superAdministrator = nil
        revision = 0
        nextIdentity = 1
        indexes = DirectoryIndexes()
    }

    mutating func allocateIdentity() -> EntityID {
        defer { nextIdentity += 1 }
        return EntityID(nextIdentity)
    }

    // MARK: - Lookups

    /// The index entry for text as a client sent it, matched case-insensitively.
    func addressEntry(lookup raw: String) -> AddressEntry? {
        AddressKey(lookup: raw).flatMap { indexes.addresses[$0] }
    }

    /// The user whose primary address is `login`, as a client sent it.
    func loginEntry(_ login: String) -> (id: EntityID, entry: AddressEntry)? {
        guard let entry = addressEntry(lookup: login), case .user(let id) = entry.owner else { return nil }
        return (id, entry)
    }

    // MARK: - Address index maintenance

    /// Writes the index entries of every address of `user`, from the user and the
    /// delegation and membership indexes: call it after any of them changes for the user.
    mutating func indexAddresses(of user: User) {
        let groups = effectiveGroups(ofUser: user.id)
        let entries = Self.addressEntries(
            of: user, delegations: indexes.delegationsByMailbox[user.id] ?? [], groups: groups,
            groupAddresses: groups.compactMap { self.groups[$0]?.address },
            delegate: { id in users[id].map { ($0.address, $0.blocked) } }
        )
        for (key, entry) in entries { indexes.addresses[key] = entry }
    }

    /// The address index's entries for `user`'s primary address and aliases.
    ///
    /// `delegate` gives a delegate user's primary address and blocked flag; it is a
    /// parameter so that building a whole directory can read them without a lookup in the
    /// persistent map (which copies the whole user out).
    static func addressEntries(
        of user: User, delegations: [Delegation], groups: [EntityID], groupAddresses: [EmailAddress],
        delegate: (EntityID) -> (address: EmailAddress, blocked: Bool)?
    ) -> [(AddressKey, AddressEntry)] {
        addressEntries(of: user, indexed: indexedDelegations(delegations, delegate: delegate), groups: groups, groupAddresses: groupAddresses)
    }

    /// The address index's entries for `user`'s primary address and aliases, with its
    /// delegations already in their indexed form.
    static func addressEntries(
        of user: User, indexed: [IndexedDelegation], groups: [EntityID], groupAddresses: [EmailAddress]
    ) -> [(AddressKey, AddressEntry)] {
        let login = InlineAddress(user.address)
        var entries = [(AddressKey, AddressEntry)]()
        entries.reserveCapacity(1 + user.aliases.count)
        entries.append((AddressKey(user.address), AddressEntry(
            address: login, owner: .user(user.id), primary: user.address, blocked: user.blocked, groupSendAs: false, ownerLogin: login,
            delegations: indexed, groups: groups, groupAddresses: groupAddresses
        )))
        for alias in user.aliases {
            entries.append((AddressKey(alias), AddressEntry(
                address: InlineAddress(alias), owner: .alias(user.id), primary: user.address, blocked: user.blocked, groupSendAs: false, ownerLogin: login,
                delegations: indexed, groups: groups, groupAddresses: groupAddresses
            )))
        }
        return entries
    }

    /// A mailbox's delegations as the address index holds them, each with its delegate's
    /// login and blocked flag when the delegate is a user.
    static func indexedDelegations(
        _ delegations: [Delegation], delegate: (EntityID) -> (address: EmailAddress, blocked: Bool)?
    ) -> [IndexedDelegation] {
        delegations.map { delegation in
            guard case .user(let id) = delegation.delegate, let delegate = delegate(id) else {
                return IndexedDelegation(delegation: delegation, delegateLogin: nil, delegateBlocked: false)
            }
            return IndexedDelegation(delegation: delegation, delegateLogin: InlineAddress(delegate.address), delegateBlocked: delegate.blocked)
        }
    }

    /// Rewrites the address entries of every mailbox delegated to the user `id`, whose
    /// entries carry the user's blocked flag.
    mutating func reindexMailboxes(delegatedTo id: EntityID) {
        for delegationID in indexes.delegationsByDelegate[.user(id)] ?? [] {
            if let mailbox = delegations[delegationID]?.mailbox { reindexAddresses(ofUser: mailbox) }
        }
    }

    /// Rewrites the address entries of the mailbox `id` after only its delegations changed:
    /// the owner's groups and every unchanged delegation's indexed form (its delegate's login
    /// and blocked flag, which ``reindexMailboxes(delegatedTo:)`` keeps current) are taken
    /// from the entry as it is, rather than worked out again from the maps, which copies
    /// each user it reads. The same entries ``reindexAddresses(ofUser:)`` would write.
    mutating func reindexDelegations(ofMailbox id: EntityID) {
        guard let user = users[id], let current = indexes.addresses[AddressKey(user.address)], current.owner == .user(id) else {
            reindexAddresses(ofUser: id)
            return
        }
        // Both lists keep the mailbox's order (a change appends, removes or replaces one), so
        // each delegation is looked for where the last match leaves off: one pass, not a
        // search of the whole list for each.
        let held = current.delegations
        var next = 0
        let indexed = (indexes.delegationsByMailbox[id] ?? []).map { delegation in
            let found = next < held.count && held[next].delegation == delegation ? next : held.firstIndex { $0.delegation == delegation }
            if let found {
                next = found + 1
                return held[found]
            }
            return Self.indexedDelegations([delegation]) { delegate in users[delegate].map { ($0.address, $0.blocked) } }[0]
        }
        let entries = Self.addressEntries(of: user, indexed: indexed, groups: current.groups, groupAddresses: current.groupAddresses)
        for (key, entry) in entries { indexes.addresses[key] = entry }
    }

    /// Rewrites the address entries of the mailbox `id`, a user's or a group's, if it
    /// still exists.
    mutating func reindexAddresses(ofUser id: EntityID) {
        if let user = users[id] {
            indexAddresses(of: user)
        } else if let group = groups[id] {
            indexAddress(of: group)
        }
    }

    /// Writes the index entry of `group`'s address, with the delegations of its mailbox.
    mutating func indexAddress(of group: Group) {
        indexes.addresses[AddressKey(group.address)] = Self.addressEntry(
            of: group, delegations: indexes.delegationsByMailbox[group.id] ?? [],
            delegate: { id in users[id].map { ($0.address, $0.blocked) } }
        )
    }

    /// The address index's entry for `group`'s address. A group's address is a mailbox
    /// like a user's (a shared mailbox), so it carries its delegations the same way.
    static func addressEntry(
        of group: Group, delegations: [Delegation], delegate: (EntityID) -> (address: EmailAddress, blocked: Bool)?
    ) -> AddressEntry {
        AddressEntry(
            address: InlineAddress(group.address), owner: .group(group.id), primary: group.address, blocked: false, groupSendAs: group.membersMaySendAs, ownerLogin: nil,
            delegations: indexedDelegations(delegations, delegate: delegate), groups: [], groupAddresses: []
        )
    }

    mutating func unindexAddress(_ address: EmailAddress) {
        indexes.addresses[AddressKey(address)] = nil
    }

    /// The email policies, by name.
    public var policyList: [EmailPolicy] {
        policies.values.sorted { $0.name < $1.name }
    }

    /// The user with identity `id`.
    public func user(id: EntityID) -> User? { users[id] }

    /// The group with identity `id`.
    public func group(id: EntityID) -> Group? { groups[id] }

    /// The owner of an address: a user (primary or alias) or a group.
    public func owner(of address: EmailAddress) -> AddressOwner? {
        indexes.addresses[AddressKey(address)]?.owner
    }

    /// The user whose primary address or alias is `address`.
    public func user(at address: EmailAddress) -> User? {
        switch owner(of: address) {
        case .user(let id), .alias(let id): users[id]
        default: nil
        }
    }

    /// The group whose address is `address`.
    public func group(at address: EmailAddress) -> Group? {
        if case .group(let id) = owner(of: address) { return groups[id] }
        return nil
    }

    /// The service account called `name`.
    public func service(named name: ServiceName) -> ServiceAccount? {
        indexes.serviceLogins[name.value].flatMap { services[$0] }
    }

    /// The account behind a login: a user's primary address or a service account's name.
    /// Aliases are not logins.
    public func account(forLogin login: String) -> Account? {
        if let address = EmailAddress(login) {
            guard case .user(let id) = owner(of: address), let user = users[id] else { return nil }
            return Account(principal: .user(id), login: user.address.value, passwordHash: user.passwordHash, blocked: user.blocked)
        }
        if let name = ServiceName(login), let service = service(named: name) {
            return Account(principal: .service(service.id), login: service.name.value, passwordHash: service.passwordHash, blocked: service.blocked)
        }
        return nil
    }

    /// The login name of a principal, as the audit log shows it.
    public func loginName(of principal: Principal) -> String {
        switch principal {
        case .user(let id): users[id]?.address.value ?? "user#\(id)"
        case .service(let id): services[id]?.name.value ?? "service#\(id)"
        case .system: "system"
        }
    }

    /// The email policy that applies to a user: their own, else the strictest of the
    /// policies of the groups they are inside (directly or through nested groups), else
    /// the organisation default.
    public func effectivePolicy(for user: User) -> EmailPolicy {
        if let name = user.policy, let policy = policies[name] { return policy }
        var groupPolicies: [EmailPolicy] = []
        for groupID in effectiveGroups(ofUser: user.id) {
            if let name = groups[groupID]?.policy, let policy = policies[name] { groupPolicies.append(policy) }
        }
        if !groupPolicies.isEmpty {
            // Where groups disagree, the one that forbids delegation wins: a user in a
            // restricted group should not escape the restriction through another group.
            return groupPolicies.first { !$0.mailboxDelegationAllowed } ?? groupPolicies[0]
        }
        let defaultName = organization?.defaultPolicy ?? EmailPolicy.defaultName
        return policies[defaultName] ?? EmailPolicy(name: defaultName, mailboxDelegationAllowed: true)
    }

    /// The groups a user belongs to directly, then those that contain them, and so on up:
    /// each once, nearest first. What send-as, delegations to groups and mailbox access go by.
    func effectiveGroups(ofUser user: EntityID) -> [EntityID] {
        Self.expandUpwards(indexes.groupsByMember[user] ?? []) { indexes.parentsByGroup[$0] }
    }

    /// `direct` and every group above them through `parents`, each once, nearest first.
    static func expandUpwards(_ direct: [EntityID], parents: (EntityID) -> [EntityID]?) -> [EntityID] {
        var result = direct
        var seen = Set(direct)
        var index = 0
        while index < result.count {
            for parent in parents(result[index]) ?? [] where seen.insert(parent).inserted { result.append(parent) }
            index += 1
        }
        return result
    }

    /// The users in a group, directly or through the groups nested in it, each once.
    func usersUnder(group groupID: EntityID) -> [EntityID] {
        var users: [EntityID] = []
        var seenUsers: Set<EntityID> = []
        var seenGroups: Set<EntityID> = [groupID]
        var pending = [groupID]
        while let next = pending.popLast() {
            for member in groups[next]?.members ?? [] {
                switch member {
                case .user(let id): if seenUsers.insert(id).inserted { users.append(id) }
                case .group(let id): if seenGroups.insert(id).inserted { pending.append(id) }
                case .external: break
                }
            }
        }
        return users
    }

    /// Whether `inner` is `outer` or lies inside it, however deep.
    func group(_ inner: EntityID, isWithin outer: EntityID) -> Bool {
        var seen: Set<EntityID> = [outer]
        var pending = [outer]
        if inner == outer { return true }
        while let next = pending.popLast() {
            for case .group(let id) in groups[next]?.members ?? [] {
                if id == inner { return true }
                if seen.insert(id).inserted { pending.append(id) }
            }
        }
        return false
    }

    /// The groups a user belongs to directly.
    public func groups(containing user: EntityID) -> [Group] {
        (indexes.groupsByMember[user] ?? []).compactMap { groups[$0] }
    }

    /// The user's second factor, confirmed or pending.
    public func secondFactor(of user: EntityID) -> SecondFactor? { secondFactors[user] }

    /// The delegations of a mailbox.
    public func delegations(ofMailbox mailbox: EntityID) -> [Delegation] {
        indexes.delegationsByMailbox[mailbox] ?? []
    }
}

/// The owner of an address.
public enum AddressOwner: Hashable, Sendable {
    /// A user's primary address.
    case user(EntityID)
    /// One of a user's aliases.
    case alias(EntityID)
    /// A group's address.
    case group(EntityID)
}

/// What the daemon needs to check a login.
public struct Account: Sendable {
    /// Who the login is.
    public let principal: Principal
    /// The login, lowercase.
    public let login: String
    /// The stored password hash.
    public let passwordHash: PasswordHash
    /// Whether the account is blocked.
    public let blocked: Bool
}
