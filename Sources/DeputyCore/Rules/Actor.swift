/// The actor of a command, resolved against the directory, with the questions the rules ask.
struct Actor {
    let principal: Principal
    /// The user behind the actor, for user principals.
    let user: User?

    var isSystem: Bool { principal == .system }
    var isSuperAdministrator: Bool { isSystem || user?.role == .superAdministrator }
    /// Administrators and the super administrator (and the system itself).
    var isAdministrator: Bool { isSystem || (user?.role.isAdministrator ?? false) }
    var userID: EntityID? { user?.id }

    /// Whether the actor holds a custom role (administrators need none).
    func holds(_ role: CustomAdminRole) -> Bool {
        user?.customRoles.contains(role) ?? false
    }

    /// Succeeds for administrators and for holders of `scope`; otherwise names the rule that
    /// refuses: the custom-role scope for custom administrators, the administrators' rule
    /// for everyone else.
    func requireAdministrator(orScope scopes: CustomAdminRole..., action: String) throws(DirectoryError) {
        if isAdministrator { return }
        if scopes.contains(where: holds) { return }
        if let user, !user.customRoles.isEmpty {
            throw .denied(.customRoleScope, "\(action) is outside the custom administrator roles held")
        }
        throw .denied(.administratorsManage, "\(action) needs an administrator")
    }

    /// Succeeds for the super administrator only.
    func requireSuperAdministrator(_ rule: Rule, action: String) throws(DirectoryError) {
        guard isSuperAdministrator else {
            throw .denied(rule, "only the super administrator may \(action)")
        }
    }

    /// Checks that the actor may act on `target` at all: nobody but the super administrator
    /// touches the super administrator's account, and custom administrators act on plain
    /// users only (acting on an administrator would let them take over its rights).
    func requireAuthority(over target: User, action: String) throws(DirectoryError) {
        if target.id == userID { return }
        if target.role == .superAdministrator {
            guard isSystem else {
                throw .denied(.protectedSuperAdministrator, "nobody may \(action) the super administrator's account")
            }
            return
        }
        if target.role == .administrator, !isAdministrator {
            throw .denied(.customRoleScope, "custom administrators may not \(action) an administrator")
        }
    }
}
