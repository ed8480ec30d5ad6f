import HashTreeCollections
import Foundation

extension Directory {
    // MARK: - Organisation

    /// Rule 1: the organisation is created together with its one super administrator.
    mutating func createOrganization(_ new: NewOrganization, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        guard actor.isSystem else {
            throw .denied(.singleSuperAdministrator, "only the daemon itself creates the organisation")
        }
        guard organization == nil else { throw DirectoryError(.exists, "the organisation exists already") }
        try Self.validateDisplayName(new.name)
        try Self.validateDisplayName(new.superAdministratorName)
        guard new.superAdministrator.domain == new.domain.value else {
            throw .invalid("the super administrator's address must be in \(new.domain)")
        }
        organization = Organization(name: new.name, domains: [new.domain], createdAt: time)
        policies[EmailPolicy.defaultName] = EmailPolicy(name: EmailPolicy.defaultName, mailboxDelegationAllowed: true)
        let id = allocateIdentity()
        let user = User(
            id: id, address: new.superAdministrator, displayName: new.superAdministratorName, role: .superAdministrator,
            passwordHash: new.passwordHash, createdAt: time
        )
        insertUser(user)
        superAdministrator = id
        return CommandResult(entity: id, summary: "organisation \(new.name) created with super administrator \(new.superAdministrator)")
    }

    /// Rule 4: name and logo are the super administrator's; rule 5: other settings are any administrator's.
    /// Changing the name or logo, or the second-factor requirement, needs a fresh proof of the
    /// super administrator's factor where it has one.
    mutating func modifyOrganization(_ changes: OrganizationChanges, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        guard changes.touchesIdentity || changes.touchesSettings || changes.touchesFactorRequirement || changes.touchesAuditRetention else {
            throw .invalid("nothing to change")
        }
        if changes.touchesIdentity {
            try actor.requireSuperAdministrator(.organizationIdentityBySuperAdministrator, action: "change the organisation's name or logo")
            try actor.requireFreshProof(context, rule: .organizationIdentityBySuperAdministrator, action: "change the organisation's name or logo", passwordWindow: false)
        }
        if let required = changes.requireAdministratorFactor {
            try actor.requireSuperAdministrator(.secondFactor, action: "change whether administrators need a second factor")
            try actor.requireFreshProof(context, rule: .secondFactor, action: "change whether administrators need a second factor", passwordWindow: false)
            // Whoever turns the requirement on must meet it, or they could no longer act.
            if required, !actor.isSystem, !actor.hasConfirmedFactor {
                throw .denied(.secondFactor, "enrol and confirm your own second factor before requiring one of administrators")
            }
        }
        if let days = changes.auditRetentionDays {
            let action = "change how long the audit log keeps its records"
            try actor.requireSuperAdministrator(.auditRetentionBySuperAdministrator, action: action)
            // A shorter retention drops records at once: the proof of a stolen session alone
            // must not be enough to erase the record of what was done with it.
            try actor.requireFreshProof(context, rule: .auditRetentionBySuperAdministrator, action: action, passwordWindow: true)
            guard (0...Organization.longestAuditRetentionDays).contains(days) else {
                throw .invalid("the audit retention is a number of days from 1 to \(Organization.longestAuditRetentionDays), or 0 to keep every record")
            }
        }
        if changes.touchesSettings {
            try actor.requireAdministrator(action: "changing organisation settings")
        }
        if let name = changes.name { try Self.validateDisplayName(name) }
        if case .set(let logo) = changes.logo {
            guard !logo.isEmpty, logo.utf8.count <= 2048, !logo.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false }) else {
                throw .invalid("a logo is a reference such as a URL, without spaces, at most 2048 bytes")
            }
        }
        if let policy = changes.defaultPolicy { try requirePolicy(policy) }
        var reserved: [String]?
        if let parts = changes.reservedLocalParts {
            guard let normalized = ReservedAddresses.normalize(parts) else {
                throw .invalid("reserved addresses are at most 256 local parts of 1 to 64 characters, without '@', ',' or spaces")
            }
            reserved = normalized
        }

        var updated = organization!
        if let name = changes.name { updated.name = name }
        switch changes.logo {
        case .set(let logo): updated.logo = logo
        case .clear: updated.logo = nil
        case nil: break
        }
        if let policy = changes.defaultPolicy { updated.defaultPolicy = policy }
        if let level = changes.organizationGroups { updated.groupCreation.organizationGroups = level }
        if let level = changes.personalGroups { updated.groupCreation.personalGroups = level }
        if let external = changes.personalGroupsAllowExternal { updated.groupCreation.personalGroupsAllowExternal = external }
        if let external = changes.organizationGroupsAllowExternal { updated.groupCreation.organizationGroupsAllowExternal = external }
        if let reserved { updated.reservedLocalParts = reserved }
        if let required = changes.requireAdministratorFactor { updated.requireAdministratorFactor = required }
        if let days = changes.auditRetentionDays { updated.auditRetentionDays = days == 0 ? nil : days }
        organization = updated
        return CommandResult(entity: nil, summary: "organisation updated")
    }

    mutating func addDomain(_ domain: DomainName, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "adding a domain")
        guard !organization!.domains.contains(domain) else { throw DirectoryError(.exists, "\(domain) is already a domain of the organisation") }
        organization!.domains.append(domain)
        return CommandResult(entity: nil, summary: "domain \(domain) added")
    }

    mutating func removeDomain(_ domain: DomainName, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "removing a domain")
        guard let position = organization!.domains.firstIndex(of: domain) else { throw .notFound("\(domain) is not a domain of the organisation") }
        guard organization!.domains.count > 1 else { throw DirectoryError(.conflict, "the organisation needs at least one domain") }
        // Removing a domain is rare, so a scan of the addresses is acceptable here.
        let suffix = "@" + domain.value
        if indexes.addresses.keys.contains(where: { $0.text.hasSuffix(suffix) }) {
            throw DirectoryError(.conflict, "addresses in \(domain) are still in use")
        }
        organization!.domains.remove(at: position)
        return CommandResult(entity: nil, summary: "domain \(domain) removed")
    }

    // MARK: - Policies

    mutating func addPolicy(_ policy: EmailPolicy, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "adding an email policy")
        guard EmailPolicy.isValidName(policy.name) else { throw .invalid("a policy name is 1 to 64 letters, digits, '-', '_' or '.'") }
        guard policies[policy.name] == nil else { throw DirectoryError(.exists, "a policy called \(policy.name) exists already") }
        policies[policy.name] = policy
        return CommandResult(entity: nil, summary: "policy \(policy.name) added")
    }

    mutating func modifyPolicy(_ policy: EmailPolicy, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "changing an email policy")
        try requirePolicy(policy.name)
        policies[policy.name] = policy
        return CommandResult(entity: nil, summary: "policy \(policy.name) updated")
    }

    mutating func deletePolicy(_ name: String, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "deleting an email policy")
        try requirePolicy(name)
        guard organization!.defaultPolicy != name else { throw DirectoryError(.conflict, "\(name) is the organisation's default policy") }
        // Deleting a policy is rare; scanning for its users keeps the indexes smaller.
        if users.values.contains(where: { $0.policy == name }) || groups.values.contains(where: { $0.policy == name }) {
            throw DirectoryError(.conflict, "policy \(name) is still assigned")
        }
        policies[name] = nil
        return CommandResult(entity: nil, summary: "policy \(name) deleted")
    }

    // MARK: - Spam control

    mutating func modifySpamSettings(_ changes: SpamChanges, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(orScope: .spamControl, action: "changing spam control")
        var settings = spamSettings
        settings.allowedSenders.formUnion(changes.allowSenders)
        settings.allowedSenders.subtract(changes.unallowSenders)
        settings.blockedSenders.formUnion(changes.blockSenders)
        settings.blockedSenders.subtract(changes.unblockSenders)
        settings.allowedDomains.formUnion(changes.allowDomains)
        settings.allowedDomains.subtract(changes.unallowDomains)
        settings.blockedDomains.formUnion(changes.blockDomains)
        settings.blockedDomains.subtract(changes.unblockDomains)
        if let action = changes.spfFailure { settings.spfFailure = action }
        if let action = changes.dkimFailure { settings.dkimFailure = action }
        if let action = changes.dmarcFailure { settings.dmarcFailure = action }
        if let action = changes.dnsblFailure { settings.dnsblFailure = action }
        guard settings != spamSettings else { throw .invalid("nothing to change") }
        spamSettings = settings
        return CommandResult(entity: nil, summary: "spam control updated")
    }
}
