import Foundation

/// A person with a mailbox in the organisation.
public struct User: Hashable, Codable, Sendable {
    /// The stable identity.
    public let id: EntityID
    /// The primary address, which is also the login.
    public var address: EmailAddress
    /// Further addresses that deliver to this mailbox and that the user may send as.
    public var aliases: [EmailAddress]
    /// The name shown to people.
    public var displayName: String
    /// The user's role.
    public var role: Role
    /// Custom administrator roles held (only by users whose role is ``Role/user``).
    public var customRoles: Set<CustomAdminRole>
    /// The salted slow hash of the password, in ``PasswordHash`` format.
    public var passwordHash: PasswordHash
    /// A blocked account can't log in and gets no rights from any query.
    public var blocked: Bool
    /// Where password recovery mail goes.
    public var recoveryAddress: EmailAddress?
    /// The email policy assigned to this user, overriding group and organisation defaults.
    public var policy: String?
    /// When the user was created.
    public let createdAt: Date

    /// Creates a user.
    public init(
        id: EntityID, address: EmailAddress, aliases: [EmailAddress] = [], displayName: String,
        role: Role = .user, customRoles: Set<CustomAdminRole> = [], passwordHash: PasswordHash,
        blocked: Bool = false, recoveryAddress: EmailAddress? = nil, policy: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.address = address
        self.aliases = aliases
        self.displayName = displayName
        self.role = role
        self.customRoles = customRoles
        self.passwordHash = passwordHash
        self.blocked = blocked
        self.recoveryAddress = recoveryAddress
        self.policy = policy
        self.createdAt = createdAt
    }

    /// The LDAP-style name, for example `uid=alice,ou=users,dc=acme,dc=test`.
    public var distinguishedName: String {
        DistinguishedName.user(address)
    }

    /// Every address of the mailbox: the primary one first, then the aliases.
    public var allAddresses: [EmailAddress] { [address] + aliases }
}
