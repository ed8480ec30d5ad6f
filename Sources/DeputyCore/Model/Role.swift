/// The role of a user in the organisation.
///
/// There is always exactly one ``superAdministrator``; any number of ``administrator``s
/// manage everything except the super administrator's exclusive privileges.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// An end user: reads mail and manages what is their own.
    case user
    /// An administrator: manages the whole organisation except the exclusive privileges.
    case administrator = "admin"
    /// The single super administrator of the organisation.
    case superAdministrator = "superadmin"

    /// Whether the role carries the general administrator's rights.
    public var isAdministrator: Bool { self != .user }

    private var rank: Int {
        switch self {
        case .user: 0
        case .administrator: 1
        case .superAdministrator: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// A custom administrator role: rights over one part of the organisation only.
public enum CustomAdminRole: String, Codable, Sendable, CaseIterable, Comparable {
    /// Add and delete users, change user settings and passwords.
    case userManagement = "usermanagement"
    /// Manage group members and settings, delete groups.
    case groupManagement = "groupmanagement"
    /// Manage the allowed and blocked lists and the actions on SPF, DKIM, DMARC and DNSBL failure.
    case spamControl = "spamcontrol"
    /// Read the audit log, block and unblock accounts, set recovery addresses.
    case helpdesk
    /// Handle quarantined mail (a privilege that mail servers and consoles query).
    case quarantine
    /// Build applications in the developer space (a privilege that consoles query).
    case marketplaceDeveloper = "marketplacedeveloper"

    public static func < (lhs: CustomAdminRole, rhs: CustomAdminRole) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
