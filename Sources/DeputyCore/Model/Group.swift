import Foundation
import HashTreeCollections

/// Whether a group belongs to the organisation or to one user.
public enum GroupKind: String, Codable, Sendable, CaseIterable {
    /// Created under the organisation's group-creation privilege; managed by administrators.
    case organization
    /// Created by a user for their own use; managed by its owner and administrators.
    case personal
}

/// A member of a group: a user of the organisation, another group of the organisation (whose
/// members are then members too), or, where policy allows, an outside address.
public enum GroupMember: Hashable, Codable, Sendable {
    /// A user of the organisation.
    case user(EntityID)
    /// A group of the organisation, nested: never one that contains this group, directly
    /// or further down.
    case group(EntityID)
    /// An address outside the organisation.
    case external(EmailAddress)
}

/// A group with its own address whose mail reaches every member.
public struct Group: Hashable, Codable, Sendable {
    /// The stable identity.
    public let id: EntityID
    /// The group's address.
    public var address: EmailAddress
    /// The name shown to people.
    public var name: String
    /// Organisation or personal group.
    public let kind: GroupKind
    /// The owner of a personal group; `nil` for organisation groups.
    public let owner: EntityID?
    /// The members. A persistent set, so changing one member of a large group is cheap.
    public var members: TreeSet<GroupMember>
    /// Whether members may send mail as the group's address.
    public var membersMaySendAs: Bool
    /// The email policy assigned to the group's members (unless a user has their own).
    public var policy: String?
    /// When the group was created.
    public let createdAt: Date

    /// Creates a group.
    public init(
        id: EntityID, address: EmailAddress, name: String, kind: GroupKind, owner: EntityID?,
        members: TreeSet<GroupMember> = [], membersMaySendAs: Bool = false, policy: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.address = address
        self.name = name
        self.kind = kind
        self.owner = owner
        self.members = members
        self.membersMaySendAs = membersMaySendAs
        self.policy = policy
        self.createdAt = createdAt
    }

    /// The LDAP-style name, for example `cn=sales,ou=groups,dc=acme,dc=test`.
    public var distinguishedName: String {
        DistinguishedName.group(address)
    }
}
