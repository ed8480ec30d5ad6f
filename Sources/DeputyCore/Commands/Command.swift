import Foundation

/// A change to the directory, as a value.
///
/// Commands are Codable because the journal stores them, and deterministic: applied in the
/// same order with the same ``CommandContext`` they produce the same directory. They name
/// users and groups by address and never carry a password, only its hash.
public enum Command: Hashable, Codable, Sendable {
    /// Creates the organisation with its super administrator; only on an empty directory.
    case createOrganization(NewOrganization)
    /// Changes organisation settings (name and logo are the super administrator's).
    case modifyOrganization(OrganizationChanges)
    /// Adds a mail domain.
    case addDomain(DomainName)
    /// Removes a mail domain that no address uses.
    case removeDomain(DomainName)

    /// Adds a user.
    case addUser(NewUser)
    /// Deletes a user with every delegation and membership that names them.
    case deleteUser(EmailAddress)
    /// Changes a user's settings.
    case modifyUser(EmailAddress, UserChanges)
    /// Sets a user's password hash (their own needs a recent re-authentication).
    case setPassword(EmailAddress, PasswordHash)
    /// Blocks or unblocks a user.
    case setBlocked(EmailAddress, Bool)
    /// Changes a user's role; ``Role/superAdministrator`` hands the role over.
    case setRole(EmailAddress, Role)
    /// Gives a user a custom administrator role.
    case grantCustomRole(EmailAddress, CustomAdminRole)
    /// Takes a custom administrator role away.
    case revokeCustomRole(EmailAddress, CustomAdminRole)

    /// Adds a group.
    case addGroup(NewGroup)
    /// Deletes a group with every delegation that names it.
    case deleteGroup(EmailAddress)
    /// Changes a group's settings or members.
    case modifyGroup(EmailAddress, GroupChanges)

    /// Adds a service account for a mail server.
    case addServiceAccount(ServiceName, PasswordHash)
    /// Deletes a service account.
    case deleteServiceAccount(ServiceName)
    /// Sets a service account's password hash.
    case setServicePassword(ServiceName, PasswordHash)

    /// Delegates a mailbox, or changes an existing delegation to the same delegate.
    case delegate(NewDelegation)
    /// Removes a delegation.
    case undelegate(mailbox: EmailAddress, delegate: EmailAddress)

    /// Adds an email policy.
    case addPolicy(EmailPolicy)
    /// Changes an email policy.
    case modifyPolicy(EmailPolicy)
    /// Deletes an email policy that nothing uses.
    case deletePolicy(String)

    /// Changes the spam control settings.
    case modifySpamSettings(SpamChanges)

    /// Enrols a second factor for the acting user, pending until confirmed; replaces a
    /// pending one, never a confirmed one.
    case enrollSecondFactor(EmailAddress, FactorEnrolment)
    /// Confirms the acting user's pending factor with the step of a first code, which the
    /// daemon checked against the secret; that step is used up.
    case confirmSecondFactor(EmailAddress, step: UInt64)
    /// Records that the acting user proved their factor: a step, which can't be used again,
    /// or a recovery code, which is used up. Refused for a step already used.
    case useSecondFactor(EmailAddress, FactorProof)
    /// Removes a user's second factor: their own, or another's (a reset), after proving
    /// one's own factor where one has it.
    case removeSecondFactor(EmailAddress)

    /// Records in the audit log that a mail server let `login` send as `sender` under a
    /// delegation. Changes nothing else; only the daemon itself records these. The record
    /// names the delegate as its actor, so `AUDIT actor=<delegate>` finds it. `details`
    /// (absent from records journalled before it existed) adds the permission used and
    /// the message.
    case recordDelegatedSend(login: EmailAddress, sender: EmailAddress, delegation: EntityID, details: DelegatedSendDetails? = nil)

    /// Records in the audit log a failed login: the login tried, where from and how, never
    /// the password. Changes nothing else; only the daemon itself records these.
    case recordLoginFailure(LoginAttempt)

    /// Records in the audit log that repeated failures locked a login or a client address
    /// out for a while. Changes nothing else; only the daemon itself records these.
    case recordLockout(LoginAttempt)
}

extension Command {
    /// Whether the command enrols or confirms the actor's own second factor: what an
    /// administrator may still do where the organisation requires a factor it lacks.
    var enrolsSecondFactor: Bool {
        switch self {
        case .enrollSecondFactor, .confirmSecondFactor:
            true
        case .createOrganization, .modifyOrganization, .addDomain, .removeDomain, .addUser, .deleteUser, .modifyUser, .setPassword,
             .setBlocked, .setRole, .grantCustomRole, .revokeCustomRole, .addGroup, .deleteGroup, .modifyGroup, .addServiceAccount,
             .deleteServiceAccount, .setServicePassword, .delegate, .undelegate, .addPolicy, .modifyPolicy, .deletePolicy,
             .modifySpamSettings, .useSecondFactor, .removeSecondFactor, .recordDelegatedSend, .recordLoginFailure, .recordLockout:
            false
        }
    }
}

/// What a mail server knows of one delegated send besides who and under which grant.
public struct DelegatedSendDetails: Hashable, Codable, Sendable {
    /// The permission used: `sendas` for a sender or `From:` used as is, `sendonbehalf`
    /// for a `From:` with the delegate in `Sender:`.
    public var permission: Permission
    /// The MTA's queue id, when it had assigned one.
    public var queueID: String?
    /// The message's `Message-ID:`, when it had one.
    public var messageID: String?
    /// Which check decided: `policy` (the envelope sender) or `milter` (the headers).
    public var path: String

    /// Creates details; the texts, which come from the mail, are made safe to keep.
    public init(permission: Permission, queueID: String?, messageID: String?, path: String) {
        self.permission = permission
        self.queueID = queueID.map(Self.safe).flatMap { $0.isEmpty ? nil : $0 }
        self.messageID = messageID.map(Self.safe).flatMap { $0.isEmpty ? nil : $0 }
        self.path = Self.safe(path)
    }

    /// At most 254 characters, without control characters or white space, so a value
    /// stays one word in the audit record.
    private static func safe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(254).compactMap { scalar in
            if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace { return nil }
            return scalar
        }))
    }
}

/// A login attempt as the audit log keeps it: never the password.
public struct LoginAttempt: Hashable, Codable, Sendable {
    /// The login tried, as given (it may name no account), shortened to 254 characters with
    /// control characters and line and paragraph separators replaced.
    public var login: String
    /// The client's address.
    public var source: String
    /// How it came in: `bind`, `reauth`, `passwd`, or a mail adapter such as `dovecot-auth`.
    public var via: String
    /// For a lockout, what is locked: `login` (the login, for sources it has not seen
    /// succeed), `login-from-source` or `source`.
    public var locked: String?

    /// What a failed password login records and logs for a login that names no account and
    /// is not an address in one of the organisation's domains (``recordable(_:in:)``).
    public static let withheld = "withheld-login"

    /// A login that named no account, as a failed password login may keep it: as typed when
    /// it is an address in one of `organization`'s domains (a guessed address is worth
    /// seeing), else ``withheld``. Anything else is often the password, typed into the
    /// login's field (`Summer@2024.de` among them), and neither the audit log nor the
    /// daemon's log may keep a password.
    public static func recordable(_ typed: String, in organization: Organization?) -> String {
        guard let address = EmailAddress(typed), organization?.hosts(address.domain) ?? false else { return withheld }
        return typed
    }

    /// Creates a record of an attempt; the login and source are made safe to keep.
    public init(login: String, source: String, via: String, locked: String? = nil) {
        self.login = Self.safe(login)
        self.source = Self.safe(source)
        self.via = Self.safe(via)
        self.locked = locked
    }

    private static func safe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(254).map {
            [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) ? "?" : $0
        }))
    }
}

/// A value that a change sets or clears.
public enum FieldUpdate<Value: Hashable & Codable & Sendable>: Hashable, Codable, Sendable {
    case set(Value)
    case clear
}

/// The organisation and its first user.
public struct NewOrganization: Hashable, Codable, Sendable {
    public var name: String
    public var domain: DomainName
    public var superAdministrator: EmailAddress
    public var superAdministratorName: String
    public var passwordHash: PasswordHash

    public init(name: String, domain: DomainName, superAdministrator: EmailAddress, superAdministratorName: String, passwordHash: PasswordHash) {
        self.name = name
        self.domain = domain
        self.superAdministrator = superAdministrator
        self.superAdministratorName = superAdministratorName
        self.passwordHash = passwordHash
    }
}

/// Changes to the organisation; `nil` leaves a field as it is.
public struct OrganizationChanges: Hashable, Codable, Sendable {
    public var name: String?
    public var logo: FieldUpdate<String>?
    public var defaultPolicy: String?
    public var organizationGroups: GroupCreationLevel?
    public var personalGroups: GroupCreationLevel?
    public var personalGroupsAllowExternal: Bool?
    public var organizationGroupsAllowExternal: Bool?
    /// Replaces the list of reserved local parts.
    public var reservedLocalParts: [String]?
    /// Whether administrators and custom administrators must have a second factor to act.
    public var requireAdministratorFactor: Bool?
    /// How many days the audit log keeps a record; 0 keeps every record.
    public var auditRetentionDays: Int?

    public init(
        name: String? = nil, logo: FieldUpdate<String>? = nil, defaultPolicy: String? = nil,
        organizationGroups: GroupCreationLevel? = nil, personalGroups: GroupCreationLevel? = nil,
        personalGroupsAllowExternal: Bool? = nil, organizationGroupsAllowExternal: Bool? = nil,
        reservedLocalParts: [String]? = nil, requireAdministratorFactor: Bool? = nil, auditRetentionDays: Int? = nil
    ) {
        self.name = name
        self.logo = logo
        self.defaultPolicy = defaultPolicy
        self.organizationGroups = organizationGroups
        self.personalGroups = personalGroups
        self.personalGroupsAllowExternal = personalGroupsAllowExternal
        self.organizationGroupsAllowExternal = organizationGroupsAllowExternal
        self.reservedLocalParts = reservedLocalParts
        self.requireAdministratorFactor = requireAdministratorFactor
        self.auditRetentionDays = auditRetentionDays
    }

    /// Whether the change touches the organisation's identity (name or logo), which is the
    /// super administrator's alone.
    var touchesIdentity: Bool { name != nil || logo != nil }

    /// Whether the change touches the second-factor requirement, which is the super
    /// administrator's alone.
    var touchesFactorRequirement: Bool { requireAdministratorFactor != nil }

    /// Whether the change touches how long the audit log keeps records, which is the super
    /// administrator's alone: a shorter retention removes the record of what was done.
    public var touchesAuditRetention: Bool { auditRetentionDays != nil }

    /// Whether the change touches anything else.
    var touchesSettings: Bool {
        defaultPolicy != nil || organizationGroups != nil || personalGroups != nil || personalGroupsAllowExternal != nil
            || organizationGroupsAllowExternal != nil || reservedLocalParts != nil
    }
}

/// A user to add.
public struct NewUser: Hashable, Codable, Sendable {
    public var address: EmailAddress
    public var displayName: String
    public var passwordHash: PasswordHash
    public var aliases: [EmailAddress]
    public var recoveryAddress: EmailAddress?
    public var policy: String?

    public init(
        address: EmailAddress, displayName: String, passwordHash: PasswordHash, aliases: [EmailAddress] = [],
        recoveryAddress: EmailAddress? = nil, policy: String? = nil
    ) {
        self.address = address
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.aliases = aliases
        self.recoveryAddress = recoveryAddress
        self.policy = policy
    }
}

/// Changes to a user; `nil` leaves a field as it is.
public struct UserChanges: Hashable, Codable, Sendable {
    public var displayName: String?
    public var recoveryAddress: FieldUpdate<EmailAddress>?
    public var addAliases: [EmailAddress]
    public var removeAliases: [EmailAddress]
    public var policy: FieldUpdate<String>?

    public init(
        displayName: String? = nil, recoveryAddress: FieldUpdate<EmailAddress>? = nil,
        addAliases: [EmailAddress] = [], removeAliases: [EmailAddress] = [], policy: FieldUpdate<String>? = nil
    ) {
        self.displayName = displayName
        self.recoveryAddress = recoveryAddress
        self.addAliases = addAliases
        self.removeAliases = removeAliases
        self.policy = policy
    }

    var isEmpty: Bool {
        displayName == nil && recoveryAddress == nil && addAliases.isEmpty && removeAliases.isEmpty && policy == nil
    }
}

/// A group to add.
public struct NewGroup: Hashable, Codable, Sendable {
    public var address: EmailAddress
    public var name: String
    public var kind: GroupKind
    public var members: [EmailAddress]
    public var membersMaySendAs: Bool

    public init(address: EmailAddress, name: String, kind: GroupKind, members: [EmailAddress] = [], membersMaySendAs: Bool = false) {
        self.address = address
        self.name = name
        self.kind = kind
        self.members = members
        self.membersMaySendAs = membersMaySendAs
    }
}

/// Changes to a group; `nil` leaves a field as it is.
public struct GroupChanges: Hashable, Codable, Sendable {
    public var name: String?
    public var membersMaySendAs: Bool?
    public var policy: FieldUpdate<String>?
    public var addMembers: [EmailAddress]
    public var removeMembers: [EmailAddress]

    public init(
        name: String? = nil, membersMaySendAs: Bool? = nil, policy: FieldUpdate<String>? = nil,
        addMembers: [EmailAddress] = [], removeMembers: [EmailAddress] = []
    ) {
        self.name = name
        self.membersMaySendAs = membersMaySendAs
        self.policy = policy
        self.addMembers = addMembers
        self.removeMembers = removeMembers
    }

    var isEmpty: Bool {
        name == nil && membersMaySendAs == nil && policy == nil && addMembers.isEmpty && removeMembers.isEmpty
    }
}

/// A delegation to grant or change.
public struct NewDelegation: Hashable, Codable, Sendable {
    public var mailbox: EmailAddress
    public var delegate: EmailAddress
    public var permissions: PermissionSet
    public var expiresAt: Date?

    public init(mailbox: EmailAddress, delegate: EmailAddress, permissions: PermissionSet, expiresAt: Date? = nil) {
        self.mailbox = mailbox
        self.delegate = delegate
        self.permissions = permissions
        self.expiresAt = expiresAt
    }
}

/// Changes to the spam control settings.
public struct SpamChanges: Hashable, Codable, Sendable {
    public var allowSenders: [EmailAddress]
    public var unallowSenders: [EmailAddress]
    public var blockSenders: [EmailAddress]
    public var unblockSenders: [EmailAddress]
    public var allowDomains: [DomainName]
    public var unallowDomains: [DomainName]
    public var blockDomains: [DomainName]
    public var unblockDomains: [DomainName]
    public var spfFailure: SpamAction?
    public var dkimFailure: SpamAction?
    public var dmarcFailure: SpamAction?
    public var dnsblFailure: SpamAction?

    public init(
        allowSenders: [EmailAddress] = [], unallowSenders: [EmailAddress] = [],
        blockSenders: [EmailAddress] = [], unblockSenders: [EmailAddress] = [],
        allowDomains: [DomainName] = [], unallowDomains: [DomainName] = [],
        blockDomains: [DomainName] = [], unblockDomains: [DomainName] = [],
        spfFailure: SpamAction? = nil, dkimFailure: SpamAction? = nil,
        dmarcFailure: SpamAction? = nil, dnsblFailure: SpamAction? = nil
    ) {
        self.allowSenders = allowSenders
        self.unallowSenders = unallowSenders
        self.blockSenders = blockSenders
        self.unblockSenders = unblockSenders
        self.allowDomains = allowDomains
        self.unallowDomains = unallowDomains
        self.blockDomains = blockDomains
        self.unblockDomains = unblockDomains
        self.spfFailure = spfFailure
        self.dkimFailure = dkimFailure
        self.dmarcFailure = dmarcFailure
        self.dnsblFailure = dnsblFailure
    }
}

/// What an applied command produced.
public struct CommandResult: Hashable, Sendable {
    /// The entry created or changed, where there is one.
    public let entity: EntityID?
    /// A short sentence for the actor, for example `user bob@acme.test added`.
    public let summary: String

    public init(entity: EntityID?, summary: String) {
        self.entity = entity
        self.summary = summary
    }
}
