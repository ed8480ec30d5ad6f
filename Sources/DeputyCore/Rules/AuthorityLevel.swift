/// Where an account stands in the organisation's order of authority.
///
/// Super Administrator > Administrator > custom administrator > user. An actor acts on
/// other accounts only when it stands strictly above them (``Actor/requireAuthority(over:for:)``),
/// so nobody can take over an account beside or above their own and hold its rights.
/// Service accounts stand apart: they only query, and nothing acts on them through a user
/// account but an administrator.
public enum AuthorityLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// A user without an administrator role.
    case user = 0
    /// A user holding one or more custom administrator roles.
    case customAdministrator = 1
    /// An administrator.
    case administrator = 2
    /// The super administrator.
    case superAdministrator = 3
    /// The daemon itself: creates the organisation and records mail servers' decisions.
    case system = 4

    public static func < (lhs: AuthorityLevel, rhs: AuthorityLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level named as people say it, for refusals: `a custom administrator`.
    public var description: String {
        switch self {
        case .user: "a user"
        case .customAdministrator: "a custom administrator"
        case .administrator: "an administrator"
        case .superAdministrator: "the super administrator"
        case .system: "the daemon"
        }
    }
}

extension User {
    /// Where the user stands in the order of authority.
    public var authorityLevel: AuthorityLevel {
        switch role {
        case .superAdministrator: .superAdministrator
        case .administrator: .administrator
        case .user: customRoles.isEmpty ? .user : .customAdministrator
        }
    }
}
