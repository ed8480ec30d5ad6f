import HashTreeCollections

/// A member of a group, expanded to an address.
public struct MemberView: Hashable, Sendable {
    public let address: EmailAddress
    /// Whether the member is outside the organisation.
    public let external: Bool
    /// Whether the member's account is blocked (always false for external members).
    public let blocked: Bool
}

extension Directory {
    /// The members of the group at `address`, expanded to addresses and sorted; `nil` when
    /// no group has the address.
    public func members(of address: String) -> [MemberView]? {
        guard let groupAddress = EmailAddress(address), let group = group(at: groupAddress) else { return nil }
        return group.members.compactMap { member -> MemberView? in
            switch member {
            case .user(let id):
                guard let user = users[id] else { return nil }
                return MemberView(address: user.address, external: false, blocked: user.blocked)
            case .external(let address):
                return MemberView(address: address, external: true, blocked: false)
            }
        }.sorted { $0.address < $1.address }
    }
}
