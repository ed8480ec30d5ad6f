import Foundation
import HashTreeCollections

/// Everything a directory holds, as plain lists: what a snapshot stores and an import reads.
///
/// Indexes are not part of it: ``Directory/init(contents:)`` rebuilds them, so a snapshot
/// can never carry an index that disagrees with its entries.
public struct DirectoryContents: Codable, Sendable, Equatable {
    public var organization: Organization?
    public var users: [User]
    public var groups: [Group]
    public var services: [ServiceAccount]
    public var delegations: [Delegation]
    public var policies: [EmailPolicy]
    public var spamSettings: SpamSettings
    public var auditLog: [AuditRecord]
    /// The users' second factors, secrets sealed; `nil` when there are none, so documents
    /// written before factors existed read and write the same.
    public var secondFactors: [SecondFactor]?
    public var superAdministrator: EntityID?
    public var nextIdentity: UInt64
    public var revision: UInt64

    public init(
        organization: Organization?, users: [User], groups: [Group], services: [ServiceAccount],
        delegations: [Delegation], policies: [EmailPolicy], spamSettings: SpamSettings, auditLog: [AuditRecord],
        superAdministrator: EntityID?, nextIdentity: UInt64, revision: UInt64, secondFactors: [SecondFactor]? = nil
    ) {
        self.organization = organization
        self.users = users
        self.groups = groups
        self.services = services
        self.delegations = delegations
        self.policies = policies
        self.spamSettings = spamSettings
        self.auditLog = auditLog
        self.secondFactors = secondFactors
        self.superAdministrator = superAdministrator
        self.nextIdentity = nextIdentity
        self.revision = revision
    }
}

/// Why contents could not become a directory.
public struct DirectoryContentsError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension Directory {
    /// The directory's contents, each list sorted by identity so two snapshots diff cleanly.
    public var contents: DirectoryContents {
        DirectoryContents(
            organization: organization,
            users: users.values.sorted { $0.id < $1.id },
            groups: groups.values.sorted { $0.id < $1.id },
            services: services.values.sorted { $0.id < $1.id },
            delegations: delegations.values.sorted { $0.id < $1.id },
            policies: policies.values.sorted { $0.name < $1.name },
            spamSettings: spamSettings,
            auditLog: auditLog.all,
            superAdministrator: superAdministrator,
            nextIdentity: nextIdentity,
            revision: revision,
            secondFactors: secondFactors.isEmpty ? nil : secondFactors.values.sorted { $0.user < $1.user }
        )
    }

    /// Builds a directory from contents, rebuilding every index, and refuses contents that
    /// break an invariant: a duplicate identity or address, a reference to a missing entry,
    /// anything but one super administrator, an administrator holding custom roles, an
    /// identity at or past `nextIdentity`. So a directory built here passes
    /// ``integrityProblems()``.
    ///
    /// The indexes are gathered in ordinary dictionaries and become persistent maps once,
    /// at the end, and entries are read from the contents' lists by position: a lookup in
    /// a persistent map copies the whole entry out, which dominated loading a snapshot.
    public init(contents: DirectoryContents) throws(DirectoryContentsError) {
        self.init()
        organization = contents.organization
        spamSettings = contents.spamSettings
        superAdministrator = contents.superAdministrator
        nextIdentity = contents.nextIdentity
        revision = contents.revision
        var identities = Set<EntityID>(minimumCapacity: contents.users.count + contents.groups.count + contents.delegations.count)
        func claim(_ id: EntityID) throws(DirectoryContentsError) {
            guard identities.insert(id).inserted else { throw DirectoryContentsError(description: "identity \(id) is used twice") }
            guard id.rawValue < contents.nextIdentity else { throw DirectoryContentsError(description: "identity \(id) is not below the next identity \(contents.nextIdentity)") }
        }
        var claimed = Set<EmailAddress>(minimumCapacity: contents.users.count * 2 + contents.groups.count)
        func claim(_ address: EmailAddress) throws(DirectoryContentsError) {
            guard claimed.insert(address).inserted else {
                throw DirectoryContentsError(description: "the address \(address) is used twice")
            }
        }
        for policy in contents.policies { policies[policy.name] = policy }

        var userPositions = [EntityID: Int](minimumCapacity: contents.users.count)
        var superAdministrators: [EntityID] = []
        for (position, user) in contents.users.enumerated() {
            try claim(user.id)
            userPositions[user.id] = position
            try claim(user.address)
            for alias in user.aliases { try claim(alias) }
            if let policy = user.policy, policies[policy] == nil { throw DirectoryContentsError(description: "\(user.address) names the missing policy \(policy)") }
            if user.role != .user, !user.customRoles.isEmpty { throw DirectoryContentsError(description: "administrator \(user.address) holds custom roles") }
            if user.role == .superAdministrator { superAdministrators.append(user.id) }
        }
        if organization != nil {
            guard superAdministrators.count == 1, superAdministrators[0] == superAdministrator else {
                throw DirectoryContentsError(description: "there must be exactly one super administrator, found \(superAdministrators.count)")
            }
        } else if !contents.users.isEmpty {
            throw DirectoryContentsError(description: "entries without an organisation")
        }

        var addresses = [AddressKey: AddressEntry](minimumCapacity: claimed.count)
        var groupPositions = [EntityID: Int](minimumCapacity: contents.groups.count)
        var groupsByOwner: [EntityID: [EntityID]] = [:]
        var groupsByMember: [EntityID: [EntityID]] = [:]
        var parentsByGroup: [EntityID: [EntityID]] = [:]
        for (position, group) in contents.groups.enumerated() {
            try claim(group.id)
            groupPositions[group.id] = position
            try claim(group.address)
            if let owner = group.owner {
                guard userPositions[owner] != nil else { throw DirectoryContentsError(description: "group \(group.address) has a missing owner") }
                groupsByOwner[owner, default: []].append(group.id)
            }
            for case .user(let id) in group.members {
                guard userPositions[id] != nil else { throw DirectoryContentsError(description: "group \(group.address) holds a missing user") }
                groupsByMember[id, default: []].append(group.id)
            }
            for case .group(let id) in group.members { parentsByGroup[id, default: []].append(group.id) }
        }
        for (child, parents) in parentsByGroup {
            guard groupPositions[child] != nil else { throw DirectoryContentsError(description: "group \(contents.groups[groupPositions[parents[0]]!].address) holds a missing group") }
            // A group above itself would be a cycle, which no command makes.
            if Self.expandUpwards(parents, parents: { parentsByGroup[$0] }).contains(child) {
                throw DirectoryContentsError(description: "group \(contents.groups[groupPositions[child]!].address) contains itself through nested groups")
            }
        }
        for factor in contents.secondFactors ?? [] {
            guard userPositions[factor.user] != nil else { throw DirectoryContentsError(description: "a second factor belongs to a missing user \(factor.user)") }
            guard secondFactors.updateValue(factor, forKey: factor.user) == nil else {
                throw DirectoryContentsError(description: "user \(factor.user) has two second factors")
            }
        }
        for service in contents.services {
            try claim(service.id)
            services[service.id] = service
            guard indexes.serviceLogins.updateValue(service.id, forKey: service.name.value) == nil else {
                throw DirectoryContentsError(description: "the service name \(service.name) is used twice")
            }
        }

        var delegationsByMailbox: [EntityID: [Delegation]] = [:]
        var delegationsByDelegate: [Delegate: [EntityID]] = [:]
        var delegationPairs = Set<DelegationPair>(minimumCapacity: contents.delegations.count)
        for delegation in contents.delegations {
            try claim(delegation.id)
            guard userPositions[delegation.mailbox] != nil || groupPositions[delegation.mailbox] != nil else {
                throw DirectoryContentsError(description: "delegation \(delegation.id) names a missing mailbox")
            }
            switch delegation.delegate {
            case .user(let id) where userPositions[id] == nil, .group(let id) where groupPositions[id] == nil:
                throw DirectoryContentsError(description: "delegation \(delegation.id) names a missing delegate")
            default: break
            }
            let pair = DelegationPair(mailbox: delegation.mailbox, delegate: delegation.delegate)
            guard delegationPairs.insert(pair).inserted else {
                throw DirectoryContentsError(description: "delegation \(delegation.id) repeats another between the same mailbox and delegate")
            }
            delegationsByMailbox[delegation.mailbox, default: []].append(delegation)
            delegationsByDelegate[delegation.delegate, default: []].append(delegation.id)
        }

        // A group's entry carries the delegations of its mailbox, so it is written once they
        // are all known.
        for group in contents.groups {
            addresses[AddressKey(group.address)] = Self.addressEntry(
                of: group, delegations: delegationsByMailbox[group.id] ?? [],
                delegate: { id in userPositions[id].map { (contents.users[$0].address, contents.users[$0].blocked) } }
            )
        }

        // What is left builds the persistent maps, the address index (whose entries carry
        // each user's delegations and groups) on one core and the rest on another.
        let groupsByMemberSnapshot = groupsByMember, delegationsByMailboxSnapshot = delegationsByMailbox, parentsSnapshot = parentsByGroup
        let groupAddressEntries = addresses
        let (addressIndex, maps) = Concurrently.both({ [userPositions, groupPositions] in
            var addresses = groupAddressEntries
            for user in contents.users {
                let groups = Self.expandUpwards(groupsByMemberSnapshot[user.id] ?? []) { parentsSnapshot[$0] }
                let entries = Self.addressEntries(
                    of: user, delegations: delegationsByMailboxSnapshot[user.id] ?? [], groups: groups,
                    groupAddresses: groups.map { contents.groups[groupPositions[$0]!].address },
                    delegate: { id in userPositions[id].map { (contents.users[$0].address, contents.users[$0].blocked) } }
                )
                for (key, entry) in entries { addresses[key] = entry }
            }
            return AddressIndex(TreeDictionary(addresses))
        }, { [groupsByOwner, delegationsByDelegate] in
            (
                users: TreeDictionary(uniqueKeysWithValues: contents.users.lazy.map { ($0.id, $0) }),
                groups: TreeDictionary(uniqueKeysWithValues: contents.groups.lazy.map { ($0.id, $0) }),
                delegations: TreeDictionary(uniqueKeysWithValues: contents.delegations.lazy.map { ($0.id, $0) }),
                groupsByOwner: TreeDictionary(groupsByOwner),
                groupsByMember: TreeDictionary(groupsByMemberSnapshot),
                parentsByGroup: TreeDictionary(parentsSnapshot),
                delegationsByMailbox: TreeDictionary(delegationsByMailboxSnapshot),
                delegationsByDelegate: TreeDictionary(delegationsByDelegate)
            )
        })
        users = maps.users
        groups = maps.groups
        delegations = maps.delegations
        indexes.addresses = addressIndex
        indexes.groupsByOwner = maps.groupsByOwner
        indexes.groupsByMember = maps.groupsByMember
        indexes.parentsByGroup = maps.parentsByGroup
        indexes.delegationsByMailbox = maps.delegationsByMailbox
        indexes.delegationsByDelegate = maps.delegationsByDelegate
        auditLog = AuditLog(restoring: contents.auditLog)
    }
}
