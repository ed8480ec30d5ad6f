import HashTreeCollections
import Foundation

extension Directory {
    // MARK: - Index maintenance

    mutating func insertUser(_ user: User) {
        users[user.id] = user
        indexAddresses(of: user)
    }

    // MARK: - Handlers

    mutating func addUser(_ new: NewUser, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        try actor.requireAdministrator(orScope: .userManagement, action: "adding users")
        try Self.validateDisplayName(new.displayName)
        try requireFreeAddress(new.address)
        var seen: Set<EmailAddress> = [new.address]
        for alias in new.aliases {
            guard seen.insert(alias).inserted else { throw .invalid("the address \(alias) is given twice") }
            try requireFreeAddress(alias)
        }
        if let policy = new.policy { try requirePolicy(policy) }
        let user = User(
            id: allocateIdentity(), address: new.address, aliases: new.aliases, displayName: new.displayName,
            passwordHash: new.passwordHash, recoveryAddress: new.recoveryAddress, policy: new.policy, createdAt: time
        )
        insertUser(user)
        return CommandResult(entity: user.id, summary: "user \(user.address) added")
    }

    /// Rule 10: deleting a user removes every delegation and membership that names them,
    /// and the personal groups they own.
    mutating func deleteUser(_ address: EmailAddress, actor: Actor) throws(DirectoryError) -> CommandResult {
        let user = try requireUser(address)
        guard user.role != .superAdministrator else {
            throw .denied(.protectedSuperAdministrator, "the super administrator can't be deleted; transfer the role first")
        }
        try actor.requireAuthority(over: user, for: .delete)

        for groupID in indexes.groupsByOwner[user.id] ?? [] {
            removeGroup(groupID)
        }
        for groupID in indexes.groupsByMember[user.id] ?? [] {
            groups[groupID]?.members.remove(.user(user.id))
        }
        indexes.groupsByMember[user.id] = nil
        for delegationID in (indexes.delegationsByMailbox[user.id] ?? []).map(\.id) + (indexes.delegationsByDelegate[.user(user.id)] ?? []) {
            removeDelegation(delegationID)
        }
        for address in user.allAddresses { unindexAddress(address) }
        secondFactors[user.id] = nil
        users[user.id] = nil
        return CommandResult(entity: user.id, summary: "user \(user.address) deleted")
    }

    mutating func modifyUser(_ address: EmailAddress, _ changes: UserChanges, actor: Actor) throws(DirectoryError) -> CommandResult {
        let user = try requireUser(address)
        guard !changes.isEmpty else { throw .invalid("nothing to change") }
        // People keep their own name and recovery address; aliases (which carry the right to
        // send) and policies are the administrators' and user managers'.
        if changes.displayName != nil { try actor.requireAuthority(over: user, for: .rename) }
        if changes.recoveryAddress != nil { try actor.requireAuthority(over: user, for: .setRecovery) }
        if !changes.addAliases.isEmpty || !changes.removeAliases.isEmpty || changes.policy != nil {
            try actor.requireAuthority(over: user, for: .changeAddresses)
        }

        if let name = changes.displayName { try Self.validateDisplayName(name) }
        var seen: Set<EmailAddress> = []
        for alias in changes.addAliases {
            guard seen.insert(alias).inserted else { throw .invalid("the address \(alias) is given twice") }
            try requireFreeAddress(alias)
        }
        for alias in changes.removeAliases where !user.aliases.contains(alias) {
            throw .notFound("\(alias) is not an alias of \(user.address)")
        }
        if case .set(let policy) = changes.policy { try requirePolicy(policy) }

        var updated = user
        if let name = changes.displayName { updated.displayName = name }
        switch changes.recoveryAddress {
        case .set(let recovery): updated.recoveryAddress = recovery
        case .clear: updated.recoveryAddress = nil
        case nil: break
        }
        for alias in changes.removeAliases {
            updated.aliases.removeAll { $0 == alias }
            unindexAddress(alias)
        }
        for alias in changes.addAliases {
            updated.aliases.append(alias)
        }
        switch changes.policy {
        case .set(let policy): updated.policy = policy
        case .clear: updated.policy = nil
        case nil: break
        }
        users[user.id] = updated
        indexAddresses(of: updated)
        return CommandResult(entity: user.id, summary: "user \(user.address) updated")
    }

    /// A user changes their own password after proving the old one (a re-authentication);
    /// administrators and user managers reset other users' passwords.
    mutating func setPassword(_ address: EmailAddress, _ hash: PasswordHash, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        let user = try requireUser(address)
        if actor.userID == user.id {
            guard context.isRecentlyReauthenticated else {
                throw DirectoryError(.reauthenticationRequired, rule: .ownEntriesOnly, "changing your own password needs old=<current password>")
            }
        } else {
            try actor.requireAuthority(over: user, for: .setPassword)
        }
        users[user.id]!.passwordHash = hash
        return CommandResult(entity: user.id, summary: "password of \(user.address) changed")
    }

    mutating func setBlocked(_ address: EmailAddress, _ blocked: Bool, actor: Actor) throws(DirectoryError) -> CommandResult {
        let user = try requireUser(address)
        guard user.role != .superAdministrator else {
            throw .denied(.protectedSuperAdministrator, "the super administrator can't be blocked; transfer the role first")
        }
        try actor.requireAdministrator(orScope: AccountAct.block.scopes, action: AccountAct.block.activity)
        guard actor.userID != user.id else { throw DirectoryError(.conflict, "you can't block or unblock your own account") }
        try actor.requireAuthority(over: user, for: .block)
        guard user.blocked != blocked else {
            throw DirectoryError(.conflict, "\(user.address) is already \(blocked ? "blocked" : "unblocked")")
        }
        users[user.id]!.blocked = blocked
        indexAddresses(of: users[user.id]!)
        reindexMailboxes(delegatedTo: user.id)
        return CommandResult(entity: user.id, summary: "\(user.address) \(blocked ? "blocked" : "unblocked")")
    }
}
