import HashTreeCollections
import Foundation

extension Directory {
    // MARK: - Index maintenance

    /// Nesting a group touches the address entries of the users inside it only: their
    /// lists of groups gain or lose the parent and everything above it.
    mutating func insertMember(_ member: GroupMember, into groupID: EntityID) {
        groups[groupID]!.members.insert(member)
        switch member {
        case .user(let userID):
            indexes.groupsByMember.appendID(groupID, to: userID)
            reindexAddresses(ofUser: userID)
        case .group(let childID):
            indexes.parentsByGroup.appendID(groupID, to: childID)
            for userID in usersUnder(group: childID) { reindexAddresses(ofUser: userID) }
        case .external:
            break
        }
    }

    mutating func removeMember(_ member: GroupMember, from groupID: EntityID) {
        groups[groupID]!.members.remove(member)
        switch member {
        case .user(let userID):
            indexes.groupsByMember.removeID(groupID, from: userID)
            reindexAddresses(ofUser: userID)
        case .group(let childID):
            indexes.parentsByGroup.removeID(groupID, from: childID)
            for userID in usersUnder(group: childID) { reindexAddresses(ofUser: userID) }
        case .external:
            break
        }
    }

    /// Removes a group with its memberships, its place in the groups that contain it,
    /// every delegation to it and every delegation of its mailbox.
    mutating func removeGroup(_ groupID: EntityID) {
        guard let group = groups[groupID] else { return }
        // Everyone inside, however deep, loses this group and those above it.
        let affected = usersUnder(group: groupID)
        for member in group.members {
            switch member {
            case .user(let userID): indexes.groupsByMember.removeID(groupID, from: userID)
            case .group(let childID): indexes.parentsByGroup.removeID(groupID, from: childID)
            case .external: break
            }
        }
        for parentID in indexes.parentsByGroup[groupID] ?? [] {
            groups[parentID]?.members.remove(.group(groupID))
        }
        indexes.parentsByGroup[groupID] = nil
        for delegationID in (indexes.delegationsByMailbox[groupID] ?? []).map(\.id) + (indexes.delegationsByDelegate[.group(groupID)] ?? []) {
            removeDelegation(delegationID)
        }
        if let owner = group.owner { indexes.groupsByOwner.removeID(groupID, from: owner) }
        unindexAddress(group.address)
        groups[groupID] = nil
        for userID in affected { reindexAddresses(ofUser: userID) }
    }

    // MARK: - Rules

    /// Rules 7 and 8: the organisation's switch and level for each kind of group.
    func requireGroupCreation(_ kind: GroupKind, actor: Actor) throws(DirectoryError) {
        let settings = organization!.groupCreation
        let level = kind == .organization ? settings.organizationGroups : settings.personalGroups
        let rule: Rule = kind == .organization ? .organizationGroupCreation : .personalGroupCreation
        let allowed: Bool
        switch level {
        case .disabled: allowed = false
        case .superAdministratorOnly: allowed = actor.isSuperAdministrator
        case .administrators: allowed = actor.isAdministrator
        case .allUsers: allowed = true
        }
        guard allowed else {
            let who = level == .disabled ? "nobody" : level == .superAdministratorOnly ? "only the super administrator" : "only administrators"
            throw .denied(rule, "\(kind.rawValue) group creation: \(who) may create them")
        }
    }

    /// Who manages an existing group: administrators and group managers, and the owner of a
    /// personal group. Someone else's personal group is managed only from above its owner.
    func requireGroupManagement(_ group: Group, actor: Actor, action: String) throws(DirectoryError) {
        if group.kind == .personal, let owner = group.owner, owner == actor.userID { return }
        do {
            try actor.requireAdministrator(orScope: .groupManagement, action: action)
        } catch {
            if group.kind == .personal, error.rule == .administratorsManage {
                throw .denied(.ownEntriesOnly, "\(action): a personal group is managed by its owner and administrators")
            }
            throw error
        }
        if group.kind == .personal, let ownerID = group.owner, let owner = users[ownerID] {
            try actor.requireAuthority(over: owner, for: .managePersonalGroup)
        }
    }

    /// Whether an email policy applies to the members of a group: set on it, or on a group
    /// above it.
    func isUnderPolicy(_ groupID: EntityID) -> Bool {
        Self.expandUpwards([groupID]) { indexes.parentsByGroup[$0] }.contains { groups[$0]?.policy != nil }
    }

    /// Moving `members` into or out of a group under an email policy changes the policy
    /// that governs them: when the actor is among them (itself, or inside a group moved),
    /// that is assigning its own policy, which needs the right to assign policies. Nobody
    /// takes themselves out from under a policy that switches delegation off, or into one
    /// that allows it; managing other people's groups stays Group Management's.
    func requirePolicyRight(ifMoving members: [GroupMember], under groupID: EntityID, actor: Actor, action: String) throws(DirectoryError) {
        guard let me = actor.userID, !members.isEmpty, isUnderPolicy(groupID) else { return }
        // The groups the actor is in, however deep: few, where a group moved may hold many.
        let mine = effectiveGroups(ofUser: me)
        let movesActor = members.contains { member in
            switch member {
            case .user(let id): id == me
            case .group(let id): mine.contains(id)
            case .external: false
            }
        }
        if movesActor { try actor.requireAdministrator(orScope: .userManagement, action: action) }
    }

    /// Rule 8: members send as a personal group's address only once an administrator allowed it.
    func requirePersonalGroupSendAs(actor: Actor) throws(DirectoryError) {
        guard actor.isAdministrator else {
            throw .denied(.personalGroupCreation, "sending as a personal group's address needs an administrator to set sendas=yes")
        }
    }

    /// Turns a member address into a member: a user of the organisation, or an outside
    /// address where the group's kind allows one (rule 8 for personal groups).
    func resolveMember(_ address: EmailAddress, kind: GroupKind) throws(DirectoryError) -> GroupMember {
        switch owner(of: address) {
        case .user(let id), .alias(let id):
            return .user(id)
        case .group(let id):
            return .group(id)
        case nil:
            if organization!.hosts(address.domain) {
                throw .notFound("no user has the address \(address)")
            }
            guard organization!.groupCreation.allowsExternalMembers(in: kind) else {
                let (rule, setting): (Rule, String) = kind == .personal
                    ? (.personalGroupCreation, "personalexternal") : (.organizationGroupCreation, "orgexternal")
                throw .denied(rule, "\(kind.rawValue) groups may not contain external members (\(address)); the organisation setting \(setting) allows them")
            }
            return .external(address)
        }
    }

    // MARK: - Handlers

    mutating func addGroup(_ new: NewGroup, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        try requireGroupCreation(new.kind, actor: actor)
        if new.kind == .personal, actor.userID == nil {
            throw .invalid("a personal group needs a user as its owner")
        }
        try Self.validateDisplayName(new.name)
        try requireFreeAddress(new.address)
        if new.kind == .personal {
            if organization!.isReserved(new.address), !actor.isAdministrator {
                throw .denied(.personalGroupCreation, "\(new.address) is a reserved address; personal groups can't take it")
            }
            // Sending as a group's address is a right over that address, which only an
            // administrator gives; the owner may ask for it later.
            if new.membersMaySendAs { try requirePersonalGroupSendAs(actor: actor) }
        }
        var members: [GroupMember] = []
        for address in new.members {
            let member = try resolveMember(address, kind: new.kind)
            if !members.contains(member) { members.append(member) }
        }
        let id = allocateIdentity()
        let owner = new.kind == .personal ? actor.userID : nil
        let group = Group(
            id: id, address: new.address, name: new.name, kind: new.kind, owner: owner,
            membersMaySendAs: new.membersMaySendAs, createdAt: time
        )
        groups[id] = group
        indexAddress(of: group)
        if let owner { indexes.groupsByOwner.appendID(id, to: owner) }
        for member in members { insertMember(member, into: id) }
        return CommandResult(entity: id, summary: "\(new.kind.rawValue) group \(new.address) added")
    }

    mutating func deleteGroup(_ address: EmailAddress, actor: Actor) throws(DirectoryError) -> CommandResult {
        let group = try requireGroup(address)
        try requireGroupManagement(group, actor: actor, action: "deleting groups")
        try requirePolicyRight(ifMoving: [.group(group.id)], under: group.id, actor: actor, action: "deleting a group you are in, under an email policy")
        removeGroup(group.id)
        return CommandResult(entity: group.id, summary: "group \(group.address) deleted")
    }

    mutating func modifyGroup(_ address: EmailAddress, _ changes: GroupChanges, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        let group = try requireGroup(address)
        guard !changes.isEmpty else { throw .invalid("nothing to change") }
        try requireGroupManagement(group, actor: actor, action: "changing groups")
        if changes.policy != nil {
            // A policy on a group applies to its members, so it is an administrator's call.
            try actor.requireAdministrator(orScope: .userManagement, action: "assigning policies")
        }
        if group.kind == .personal, changes.membersMaySendAs == true, !group.membersMaySendAs {
            try requirePersonalGroupSendAs(actor: actor)
        }
        if let name = changes.name { try Self.validateDisplayName(name) }
        if case .set(let policy) = changes.policy { try requirePolicy(policy) }
        var added: [GroupMember] = []
        for address in changes.addMembers {
            let member = try resolveMember(address, kind: group.kind)
            guard !group.members.contains(member), !added.contains(member) else {
                throw DirectoryError(.exists, "\(address) is already a member of \(group.address)")
            }
            // A cycle would make every group in it contain itself: refused when it would be made.
            if case .group(let childID) = member, self.group(group.id, isWithin: childID) {
                throw DirectoryError(.conflict, "\(address) contains \(group.address), so it can't also be inside it")
            }
            added.append(member)
        }
        // Outside addresses never log in, so they gain no delegation.
        if added.contains(where: { if case .external = $0 { false } else { true } }) {
            try requireExtendingDelegations(heldBy: group.id, actor: actor, at: time)
        }
        var removed: [GroupMember] = []
        for address in changes.removeMembers {
            let member: GroupMember
            switch owner(of: address) {
            case .user(let id), .alias(let id): member = .user(id)
            case .group(let id): member = .group(id)
            case nil: member = .external(address)
            }
            guard group.members.contains(member), !removed.contains(member) else {
                throw .notFound("\(address) is not a member of \(group.address)")
            }
            removed.append(member)
        }
        try requirePolicyRight(ifMoving: added + removed, under: group.id, actor: actor, action: "moving yourself into or out of a group under an email policy")

        if let name = changes.name { groups[group.id]!.name = name }
        if let sendAs = changes.membersMaySendAs {
            groups[group.id]!.membersMaySendAs = sendAs
            indexAddress(of: groups[group.id]!)
        }
        switch changes.policy {
        case .set(let policy): groups[group.id]!.policy = policy
        case .clear: groups[group.id]!.policy = nil
        case nil: break
        }
        for member in removed { removeMember(member, from: group.id) }
        for member in added { insertMember(member, into: group.id) }
        return CommandResult(entity: group.id, summary: "group \(group.address) updated")
    }

    // MARK: - Service accounts

    mutating func addServiceAccount(_ name: ServiceName, _ hash: PasswordHash, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "adding service accounts")
        guard indexes.serviceLogins[name.value] == nil else { throw DirectoryError(.exists, "a service account called \(name) exists already") }
        let id = allocateIdentity()
        services[id] = ServiceAccount(id: id, name: name, passwordHash: hash, createdAt: time)
        indexes.serviceLogins[name.value] = id
        return CommandResult(entity: id, summary: "service account \(name) added")
    }

    mutating func deleteServiceAccount(_ name: ServiceName, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "deleting service accounts")
        guard let service = service(named: name) else { throw .notFound("no service account is called \(name)") }
        services[service.id] = nil
        indexes.serviceLogins[name.value] = nil
        return CommandResult(entity: service.id, summary: "service account \(name) deleted")
    }

    mutating func setServicePassword(_ name: ServiceName, _ hash: PasswordHash, actor: Actor) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(action: "changing service account passwords")
        guard let service = service(named: name) else { throw .notFound("no service account is called \(name)") }
        services[service.id]!.passwordHash = hash
        return CommandResult(entity: service.id, summary: "password of service account \(name) changed")
    }
}
