import Foundation

/// Who receives a delegation: one user, or a group whose every member then holds it.
public enum Delegate: Hashable, Codable, Sendable {
    /// A user of the organisation.
    case user(EntityID)
    /// A group of the organisation; its user members hold the delegation.
    case group(EntityID)
}

/// The right of a delegate to use a mailbox it does not own, without the owner's password.
public struct Delegation: Hashable, Codable, Sendable {
    /// The stable identity.
    public let id: EntityID
    /// The user whose mailbox is delegated.
    public let mailbox: EntityID
    /// Who receives the rights.
    public let delegate: Delegate
    /// The rights given.
    public var permissions: PermissionSet
    /// Who granted (or last changed) it.
    public var grantedBy: Principal
    /// When it was granted (or last changed).
    public var grantedAt: Date
    /// When it stops counting; `nil` for never.
    public var expiresAt: Date?

    /// Creates a delegation.
    public init(
        id: EntityID, mailbox: EntityID, delegate: Delegate, permissions: PermissionSet,
        grantedBy: Principal, grantedAt: Date, expiresAt: Date? = nil
    ) {
        self.id = id
        self.mailbox = mailbox
        self.delegate = delegate
        self.permissions = permissions
        self.grantedBy = grantedBy
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
    }

    /// Whether the delegation still counts at `now`.
    public func isActive(at now: Date) -> Bool {
        guard let expiresAt else { return true }
        return now < expiresAt
    }
}
