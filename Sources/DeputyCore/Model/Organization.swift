import Foundation

/// The organisation: its name, logo, mail domains and organisation-wide settings.
public struct Organization: Hashable, Codable, Sendable {
    /// The organisation's name; changed by the super administrator only.
    public var name: String
    /// A reference to the logo, such as a URL; changed by the super administrator only.
    public var logo: String?
    /// The mail domains; the first is the primary domain.
    public var domains: [DomainName]
    /// Who may create groups.
    public var groupCreation: GroupCreationSettings
    /// The email policy that applies where no user or group policy does.
    public var defaultPolicy: String
    /// Local parts that personal groups may not take, besides the RFC 2142 role addresses
    /// (``ReservedAddresses/roleMailboxes``), which are always reserved.
    public var reservedLocalParts: [String]
    /// Whether administrators and custom administrators must have a confirmed second
    /// factor before they may act (they may still bind, and enrol).
    public var requireAdministratorFactor: Bool = false
    /// How many days the audit log keeps a record; `nil` keeps every record.
    /// (``AuditLog/trim(retention:at:)`` drops whole chunks of records.)
    public var auditRetentionDays: Int?
    /// When the organisation was created.
    public let createdAt: Date

    /// The longest audit retention that may be set, in days: a hundred years.
    public static let longestAuditRetentionDays = 36_500

    /// Creates an organisation.
    public init(
        name: String, logo: String? = nil, domains: [DomainName],
        groupCreation: GroupCreationSettings = .init(), defaultPolicy: String = EmailPolicy.defaultName,
        reservedLocalParts: [String] = ReservedAddresses.defaultLocalParts,
        createdAt: Date
    ) {
        self.name = name
        self.logo = logo
        self.domains = domains
        self.groupCreation = groupCreation
        self.defaultPolicy = defaultPolicy
        self.reservedLocalParts = reservedLocalParts
        self.createdAt = createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case name, logo, domains, groupCreation, defaultPolicy, reservedLocalParts, requireAdministratorFactor, auditRetentionDays, createdAt
    }

    /// Encodes the organisation; the factor requirement only when it is on, and the audit
    /// retention only when it is set, so documents written before they existed read and
    /// write the same.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(logo, forKey: .logo)
        try container.encode(domains, forKey: .domains)
        try container.encode(groupCreation, forKey: .groupCreation)
        try container.encode(defaultPolicy, forKey: .defaultPolicy)
        try container.encode(reservedLocalParts, forKey: .reservedLocalParts)
        if requireAdministratorFactor { try container.encode(true, forKey: .requireAdministratorFactor) }
        try container.encodeIfPresent(auditRetentionDays, forKey: .auditRetentionDays)
        try container.encode(createdAt, forKey: .createdAt)
    }

    /// Decodes an organisation; one saved before reserved addresses existed gets the default list.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        logo = try container.decodeIfPresent(String.self, forKey: .logo)
        domains = try container.decode([DomainName].self, forKey: .domains)
        groupCreation = try container.decode(GroupCreationSettings.self, forKey: .groupCreation)
        defaultPolicy = try container.decode(String.self, forKey: .defaultPolicy)
        reservedLocalParts = try container.decodeIfPresent([String].self, forKey: .reservedLocalParts) ?? ReservedAddresses.defaultLocalParts
        requireAdministratorFactor = try container.decodeIfPresent(Bool.self, forKey: .requireAdministratorFactor) ?? false
        auditRetentionDays = try container.decodeIfPresent(Int.self, forKey: .auditRetentionDays)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }

    /// Whether a personal group may not take `address`: an RFC 2142 role address or one
    /// the administrators reserved, in any of the organisation's domains.
    public func isReserved(_ address: EmailAddress) -> Bool {
        let local = address.localPart.lowercased()
        return ReservedAddresses.roleMailboxes.contains(local) || reservedLocalParts.contains(local)
    }

    /// The LDAP-style name of the organisation, for example `dc=acme,dc=test`.
    public var distinguishedName: String {
        domains.first?.distinguishedNameSuffix ?? ""
    }

    /// Whether `domain` is one of the organisation's mail domains.
    public func hosts(_ domain: some StringProtocol) -> Bool {
        domains.contains { $0.value == domain }
    }
}

/// Who may create groups of one kind.
public enum GroupCreationLevel: String, Codable, Sendable, CaseIterable {
    /// Nobody, the super administrator included.
    case disabled = "off"
    /// The super administrator only.
    case superAdministratorOnly = "superadmin"
    /// Administrators and the super administrator.
    case administrators = "admins"
    /// Every user.
    case allUsers = "all"
}

/// The organisation's group-creation privileges.
public struct GroupCreationSettings: Hashable, Codable, Sendable {
    /// Who may create organisation groups.
    public var organizationGroups: GroupCreationLevel
    /// Who may create personal groups.
    public var personalGroups: GroupCreationLevel
    /// Whether personal groups may contain addresses outside the organisation.
    public var personalGroupsAllowExternal: Bool
    /// Whether organisation groups may contain addresses outside the organisation.
    public var organizationGroupsAllowExternal: Bool

    /// Creates settings; by default administrators create organisation groups, every user
    /// creates personal groups, and groups of both kinds hold members of the organisation only.
    public init(
        organizationGroups: GroupCreationLevel = .administrators,
        personalGroups: GroupCreationLevel = .allUsers,
        personalGroupsAllowExternal: Bool = false,
        organizationGroupsAllowExternal: Bool = false
    ) {
        self.organizationGroups = organizationGroups
        self.personalGroups = personalGroups
        self.personalGroupsAllowExternal = personalGroupsAllowExternal
        self.organizationGroupsAllowExternal = organizationGroupsAllowExternal
    }

    private enum CodingKeys: String, CodingKey {
        case organizationGroups, personalGroups, personalGroupsAllowExternal, organizationGroupsAllowExternal
    }

    /// Decodes settings; ones saved before the organisation-group setting existed keep
    /// organisation groups to members of the organisation.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        organizationGroups = try container.decode(GroupCreationLevel.self, forKey: .organizationGroups)
        personalGroups = try container.decode(GroupCreationLevel.self, forKey: .personalGroups)
        personalGroupsAllowExternal = try container.decode(Bool.self, forKey: .personalGroupsAllowExternal)
        organizationGroupsAllowExternal = try container.decodeIfPresent(Bool.self, forKey: .organizationGroupsAllowExternal) ?? false
    }

    /// Whether groups of `kind` may contain addresses outside the organisation.
    public func allowsExternalMembers(in kind: GroupKind) -> Bool {
        kind == .personal ? personalGroupsAllowExternal : organizationGroupsAllowExternal
    }
}
