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
    public var superAdministrator: EntityID?
    public var nextIdentity: UInt64
    public var revision: UInt64

    public init(
        organization: Organization?, users: [User], groups: [Group], services: [ServiceAccount],
        delegations: [Delegation], policies: [EmailPolicy], spamSettings: SpamSettings, auditLog: [AuditRecord],
        superAdministrator: EntityID?, nextIdentity: UInt64, revision: UInt64
    ) {
        self.organization = organization
        self.users = users
        self.groups = groups
        self.services = services
        self.delegations = delegations
        self.policies = policies
        self.spamSettings = spamSettings
        self.auditLog = auditLog
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
            revision: revision
        )
    }

    /// Builds a directory from contents, rebuilding every index, and refuses contents that
    /// break an invariant: a duplicate identity or address, a reference to a missing entry,
    /// anything but one super administrator, an identity at or past `nextIdentity`.
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
        for user in contents.users {
            try claim(user.id)
            users[user.id] = user
            try claim(user.address)
            for alias in user.aliases { try claim(alias) }
            if let policy = user.policy, policies[policy] == nil { throw DirectoryContentsError(description: "\(user.address) names the missing policy \(policy)") }
        }
        for group in contents.groups {
            try claim(group.id)
            groups[group.id] = group
            try claim(group.address)
            indexAddress(of: group)
            if let owner = group.owner {
                guard users[owner] != nil else { throw DirectoryContentsError(description: "group \(group.address) has a missing owner") }
                indexes.groupsByOwner.appendID(group.id, to: owner)
            }
            for case .user(let id) in group.members {
                guard users[id] != nil else { throw DirectoryContentsError(description: "group \(group.address) holds a missing user") }
                indexes.groupsByMember.appendID(group.id, to: id)
            }
        }
        for service in contents.services {
            try claim(service.id)
            services[service.id] = service
            guard indexes.serviceLogins.updateValue(service.id, forKey: service.name.value) == nil else {
                throw DirectoryContentsError(description: "the service name \(service.name) is used twice")
            }
        }
        for delegation in contents.delegations {
            try claim(delegation.id)
            guard users[delegation.mailbox] != nil else { throw DirectoryContentsError(description: "delegation \(delegation.id) names a missing mailbox") }
            switch delegation.delegate {
            case .user(let id) where users[id] == nil, .group(let id) where groups[id] == nil:
                throw DirectoryContentsError(description: "delegation \(delegation.id) names a missing delegate")
            default: break
            }
            let pair = DelegationPair(mailbox: delegation.mailbox, delegate: delegation.delegate)
            guard indexes.delegationByPair.updateValue(delegation.id, forKey: pair) == nil else {
                throw DirectoryContentsError(description: "delegation \(delegation.id) repeats another between the same mailbox and delegate")
            }
            delegations[delegation.id] = delegation
            indexes.delegationsByMailbox[delegation.mailbox, default: []].append(delegation)
            indexes.delegationsByDelegate.appendID(delegation.id, to: delegation.delegate)
        }
        // Address entries carry each user's delegations and groups, so they come last.
        for user in contents.users { indexAddresses(of: user) }
        for record in contents.auditLog { auditLog.restore(record) }
        if organization != nil {
            let superAdministrators = contents.users.filter { $0.role == .superAdministrator }
            guard superAdministrators.count == 1, superAdministrators[0].id == superAdministrator else {
                throw DirectoryContentsError(description: "there must be exactly one super administrator, found \(superAdministrators.count)")
            }
        } else if !contents.users.isEmpty {
            throw DirectoryContentsError(description: "entries without an organisation")
        }
    }
}
