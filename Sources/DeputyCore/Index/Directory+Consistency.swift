import HashTreeCollections

extension Directory {
    /// Everything wrong with this directory's invariants, as sentences; empty when sound.
    ///
    /// The ``integrityProblems()`` of the entries, and then every index rebuilt from the
    /// entries by brute force and compared with the maintained one. Slow on purpose (it
    /// builds every index a second time): for tests and `deputyd check`.
    public func consistencyProblems() -> [String] {
        var problems = integrityProblems()
        let rebuilt = Self.rebuildIndexes(users: users, groups: groups, services: services, delegations: delegations)
        if Self.normalized(rebuilt.addresses) != Self.normalized(indexes.addresses) { problems.append("the address index disagrees with the entries") }
        for (key, entry) in indexes.addresses.entries where entry.primaryHeld.address != entry.primary {
            problems.append("the address entry of \(key.text) holds an inline copy of its owner that is not \(entry.primary)")
        }
        if rebuilt.serviceLogins != indexes.serviceLogins { problems.append("the service index disagrees with the entries") }
        if rebuilt.delegationsByMailbox.mapValues(Set.init) != indexes.delegationsByMailbox.mapValues(Set.init) { problems.append("the mailbox delegation index disagrees") }
        if normalized(rebuilt.delegationsByDelegate) != normalized(indexes.delegationsByDelegate) { problems.append("the delegate index disagrees") }
        for (mailbox, list) in indexes.delegationsByMailbox where Set(list.map(\.delegate)).count != list.count {
            problems.append("the mailbox \(mailbox) is delegated more than once to one delegate")
        }
        if normalized(rebuilt.groupsByMember) != normalized(indexes.groupsByMember) { problems.append("the membership index disagrees") }
        if normalized(rebuilt.parentsByGroup) != normalized(indexes.parentsByGroup) { problems.append("the nested group index disagrees") }
        if normalized(rebuilt.groupsByOwner) != normalized(indexes.groupsByOwner) { problems.append("the group owner index disagrees") }
        return problems
    }

    /// What is wrong with the entries themselves, as sentences; empty when sound.
    ///
    /// Exactly one super administrator, nothing naming a deleted entry, no administrator
    /// holding custom roles, no missing policy. One pass with a lookup per reference, so
    /// it is cheap enough for every start: recovery runs it after replaying the journal.
    /// The indexes are not compared (``consistencyProblems()`` does that): they are never
    /// stored, only derived, so their faults are the program's, and the tests look for them.
    public func integrityProblems() -> [String] {
        var problems: [String] = []
        if organization != nil {
            let superAdministrators = users.values.filter { $0.role == .superAdministrator }.map(\.id)
            if superAdministrators.count != 1 || superAdministrators.first != superAdministrator {
                problems.append("expected exactly one super administrator, found \(superAdministrators.count)")
            }
        }
        for factor in secondFactors.values where users[factor.user] == nil {
            problems.append("the second factor of \(factor.user) belongs to a deleted user")
        }
        for delegation in delegations.values {
            if users[delegation.mailbox] == nil, groups[delegation.mailbox] == nil { problems.append("delegation \(delegation.id) names a deleted mailbox") }
            switch delegation.delegate {
            case .user(let id) where users[id] == nil: problems.append("delegation \(delegation.id) names a deleted user")
            case .group(let id) where groups[id] == nil: problems.append("delegation \(delegation.id) names a deleted group")
            default: break
            }
        }
        for group in groups.values {
            for case .user(let id) in group.members where users[id] == nil {
                problems.append("group \(group.address) holds a deleted user")
            }
            for case .group(let id) in group.members {
                if groups[id] == nil { problems.append("group \(group.address) holds a deleted group") }
                if self.group(group.id, isWithin: id) { problems.append("group \(group.address) contains itself through nested groups") }
            }
            if let owner = group.owner, users[owner] == nil { problems.append("group \(group.address) has a deleted owner") }
        }
        for user in users.values {
            if user.role != .user, !user.customRoles.isEmpty { problems.append("administrator \(user.address) holds custom roles") }
            if let policy = user.policy, policies[policy] == nil { problems.append("\(user.address) names a missing policy") }
        }
        return problems
    }

    /// Address entries with their lists as sets: the order of a user's delegations and
    /// groups depends on the order of changes, and means nothing.
    private static func normalized(_ map: AddressIndex) -> [String: [AnyHashable]] {
        Dictionary(uniqueKeysWithValues: map.entries.map { key, entry in
            (key.text, [
                entry.address, entry.owner, entry.primary, entry.blocked, entry.groupSendAs, entry.ownerLogin, Set(entry.delegations),
                Set(zip(entry.groups, entry.groupAddresses).map { "\($0.0) \($0.1)" }), entry.groups.count == entry.groupAddresses.count,
            ] as [AnyHashable])
        })
    }

    private func normalized<Key: Hashable>(_ map: TreeDictionary<Key, [EntityID]>) -> [Key: Set<EntityID>] {
        Dictionary(uniqueKeysWithValues: map.map { ($0.key, Set($0.value)) })
    }

    /// Builds every index from the entries alone.
    static func rebuildIndexes(
        users: TreeDictionary<EntityID, User>, groups: TreeDictionary<EntityID, Group>,
        services: TreeDictionary<EntityID, ServiceAccount>, delegations: TreeDictionary<EntityID, Delegation>
    ) -> DirectoryIndexes {
        var scratch = Directory()
        scratch.users = users
        scratch.groups = groups
        for group in groups.values {
            if let owner = group.owner { scratch.indexes.groupsByOwner.appendID(group.id, to: owner) }
            for case .user(let id) in group.members { scratch.indexes.groupsByMember.appendID(group.id, to: id) }
            for case .group(let id) in group.members { scratch.indexes.parentsByGroup.appendID(group.id, to: id) }
        }
        for service in services.values { scratch.indexes.serviceLogins[service.name.value] = service.id }
        for delegation in delegations.values {
            scratch.indexes.delegationsByMailbox[delegation.mailbox, default: []].append(delegation)
            scratch.indexes.delegationsByDelegate.appendID(delegation.id, to: delegation.delegate)
        }
        for group in groups.values { scratch.indexAddress(of: group) }
        for user in users.values { scratch.indexAddresses(of: user) }
        let indexes = scratch.indexes
        return indexes
    }
}
