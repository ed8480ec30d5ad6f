/// Who performs a command or a query.
public enum Principal: Hashable, Codable, Sendable {
    /// A user, by identity.
    case user(EntityID)
    /// A service account, by identity.
    case service(EntityID)
    /// The daemon itself: creating the organisation at first start, import and recovery tools.
    case system
}
