import HashTreeCollections
extension Directory {
    /// Rules 1 to 3 and 10: only the super administrator makes users administrators or
    /// users again, and hands over its own role, to an administrator, after a recent
    /// re-authentication. The super administrator is never demoted any other way.
    mutating func setRole(_ address: EmailAddress, _ role: Role, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        if role == .superAdministrator {
            return try transferSuperAdministrator(to: target, actor: actor, context: context)
        }
        if target.role == .superAdministrator {
            throw .denied(.protectedSuperAdministrator, "the super administrator keeps the role until it is transferred")
        }
        try actor.requireSuperAdministrator(.roleChangeBySuperAdministrator, action: "change a user into an administrator or back")
        guard target.role != role else { throw DirectoryError(.conflict, "\(target.address) already has the role \(role.rawValue)") }
        if role == .administrator {
            try actor.requireFreshProof(context, rule: .roleChangeBySuperAdministrator, action: "grant admin", passwordWindow: false)
        }
        var updated = target
        updated.role = role
        // Custom roles are for users; an administrator already holds every scope, and a
        // demoted administrator starts again with none rather than with forgotten grants.
        updated.customRoles = []
        users[target.id] = updated
        return CommandResult(entity: target.id, summary: "\(target.address) is now \(role == .administrator ? "an administrator" : "a user")")
    }

    private mutating func transferSuperAdministrator(to target: User, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        guard let current = actor.user, current.role == .superAdministrator else {
            throw .denied(.superAdministratorTransfer, "only the super administrator may hand over the super administrator role")
        }
        guard target.id != current.id else { throw DirectoryError(.conflict, "\(target.address) is already the super administrator") }
        guard target.role == .administrator else {
            throw .denied(.superAdministratorTransfer, "the new super administrator must already be an administrator (custom administrators and users are not eligible)")
        }
        guard !target.blocked else { throw DirectoryError(.conflict, "\(target.address) is blocked") }
        try actor.requireFreshProof(context, rule: .superAdministratorTransfer, action: "transfer the super administrator role", passwordWindow: true)
        users[target.id]!.role = .superAdministrator
        users[current.id]!.role = .administrator
        superAdministrator = target.id
        return CommandResult(entity: target.id, summary: "\(target.address) is now the super administrator; \(current.address) is an administrator")
    }

    /// Rule 6: administrators give and take custom administrator roles, to users only.
    mutating func setCustomRole(_ address: EmailAddress, _ role: CustomAdminRole, granted: Bool, actor: Actor) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        try actor.requireAuthority(over: target, for: .changeCustomRoles)
        guard target.role == .user else {
            throw DirectoryError(.conflict, "\(target.address) is an administrator and holds every scope already")
        }
        guard target.customRoles.contains(role) != granted else {
            throw DirectoryError(.conflict, "\(target.address) \(granted ? "already holds" : "does not hold") \(role.rawValue)")
        }
        if granted {
            users[target.id]!.customRoles.insert(role)
        } else {
            users[target.id]!.customRoles.remove(role)
        }
        return CommandResult(entity: target.id, summary: "\(role.rawValue) \(granted ? "granted to" : "revoked from") \(target.address)")
    }
}
