import HashTreeCollections

/// A member of a group, expanded to an address.
public struct MemberView: Hashable, Sendable {
    public let address: EmailAddress
    /// Whether the member is outside the organisation.
    public let external: Bool
    /// Whether the member is a nested group (only in a direct listing).
    public let isGroup: Bool
    /// Whether the member's account is blocked (always false for external members and groups).
    public let blocked: Bool
    /// In an expanded listing, the nested group that holds the member directly; `nil` for a
    /// member of the group asked about itself.
    public let via: EmailAddress?

    public init(address: EmailAddress, external: Bool, isGroup: Bool = false, blocked: Bool, via: EmailAddress? = nil) {
        self.address = address
        self.external = external
        self.isGroup = isGroup
        self.blocked = blocked
        self.via = via
    }
}

extension Directory {
    /// The members of the group at `address`, sorted; `nil` when no group has the address.
    ///
    /// Direct members include nested groups as members of their own. `expanded` lists
    /// instead every user and outside address inside the group, however deep, each once,
    /// with the nested group that holds it (the nearest, when several do).
    public func members(of address: String, expanded: Bool = false) -> [MemberView]? {
        guard let groupAddress = EmailAddress(address), let group = group(at: groupAddress) else { return nil }
        guard expanded else {
            return group.members.compactMap { view(of: $0, via: nil) }.sorted { $0.address < $1.address }
        }
        var result: [MemberView] = []
        var seenMembers: Set<GroupMember> = []
        var seenGroups: Set<EntityID> = [group.id]
        // Breadth first, so a member reached several ways is named through the nearest group.
        var level: [Group] = [group]
        while !level.isEmpty {
            var next: [Group] = []
            for current in level {
                for member in current.members.sorted(by: { "\($0)" < "\($1)" }) {
                    if case .group(let id) = member {
                        if seenGroups.insert(id).inserted, let nested = groups[id] { next.append(nested) }
                    } else if seenMembers.insert(member).inserted, let view = view(of: member, via: current.id == group.id ? nil : current.address) {
                        result.append(view)
                    }
                }
            }
            level = next
        }
        return result.sorted { $0.address < $1.address }
    }

    private func view(of member: GroupMember, via: EmailAddress?) -> MemberView? {
        switch member {
        case .user(let id):
            guard let user = users[id] else { return nil }
            return MemberView(address: user.address, external: false, blocked: user.blocked, via: via)
        case .group(let id):
            guard let nested = groups[id] else { return nil }
            return MemberView(address: nested.address, external: false, isGroup: true, blocked: false, via: via)
        case .external(let address):
            return MemberView(address: address, external: true, blocked: false, via: via)
        }
    }
}
