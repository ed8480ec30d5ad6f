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
    /// When the organisation was created.
    public let createdAt: Date

    /// Creates an organisation.
    public init(
        name: String, logo: String? = nil, domains: [DomainName],
        groupCreation: GroupCreationSettings = .init(), defaultPolicy: String = EmailPolicy.defaultName,
        createdAt: Date
    ) {
        self.name = name
        self.logo = logo
        self.domains = domains
        self.groupCreation = groupCreation
        self.defaultPolicy = defaultPolicy
        self.createdAt = createdAt
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

    /// Creates settings; by default administrators create organisation groups, every user
    /// creates personal groups, and personal groups hold members of the organisation only.
    public init(
        organizationGroups: GroupCreationLevel = .administrators,
        personalGroups: GroupCreationLevel = .allUsers,
        personalGroupsAllowExternal: Bool = false
    ) {
        self.organizationGroups = organizationGroups
        self.personalGroups = personalGroups
        self.personalGroupsAllowExternal = personalGroupsAllowExternal
    }
}
