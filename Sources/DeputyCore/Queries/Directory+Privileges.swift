import HashTreeCollections

/// A right that consoles and mail servers ask about.
public enum Privilege: String, Sendable, CaseIterable, Comparable {
    case changeRoles = "change-roles"
    case transferSuperAdministrator = "transfer-superadmin"
    case changeOrganizationIdentity = "change-org-identity"
    case organizationSettings = "org-settings"
    case manageUsers = "manage-users"
    case managePasswords = "manage-passwords"
    case manageGroups = "manage-groups"
    case manageDelegations = "manage-delegations"
    case managePolicies = "manage-policies"
    case manageServices = "manage-services"
    case grantCustomRoles = "grant-custom-roles"
    case spamControl = "spam-control"
    case readAuditLog = "read-audit"
    case blockAccounts = "block-accounts"
    case recoveryAddresses = "recovery-addresses"
    case quarantine
    case developer
    case delegateOwnMailbox = "delegate-own-mailbox"

    public static func < (lhs: Privilege, rhs: Privilege) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The super administrator's exclusive privileges (rules 2 to 4).
    static let exclusive: Set<Privilege> = [.changeRoles, .transferSuperAdministrator, .changeOrganizationIdentity]

    /// The privileges a custom administrator role gives (rule 6).
    static func granted(by role: CustomAdminRole) -> Set<Privilege> {
        switch role {
        case .userManagement: [.manageUsers, .managePasswords]
        case .groupManagement: [.manageGroups]
        case .spamControl: [.spamControl]
        case .helpdesk: [.readAuditLog, .blockAccounts, .recoveryAddresses]
        case .quarantine: [.quarantine]
        case .marketplaceDeveloper: [.developer]
        }
    }
}

/// A user's role, custom roles and the privileges they add up to.
public struct PrivilegeSummary: Hashable, Sendable {
    public let user: EmailAddress
    public let role: Role
    public let customRoles: [CustomAdminRole]
    public let blocked: Bool
    /// Every privilege held; empty for a blocked account.
    public let privileges: [Privilege]
}

extension Directory {
    /// The privileges of the user with login `login`; `nil` when unknown.
    public func privileges(of login: String) -> PrivilegeSummary? {
        guard let (id, _) = loginEntry(login), let user = users[id] else { return nil }
        var privileges: Set<Privilege> = []
        if !user.blocked {
            switch user.role {
            case .superAdministrator:
                privileges = Set(Privilege.allCases)
            case .administrator:
                privileges = Set(Privilege.allCases).subtracting(Privilege.exclusive)
            case .user:
                for role in user.customRoles { privileges.formUnion(Privilege.granted(by: role)) }
                if effectivePolicy(for: user).mailboxDelegationAllowed { privileges.insert(.delegateOwnMailbox) }
            }
        }
        return PrivilegeSummary(
            user: user.address, role: user.role, customRoles: user.customRoles.sorted(), blocked: user.blocked,
            privileges: privileges.sorted()
        )
    }
}
