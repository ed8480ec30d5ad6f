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
        try requireAdministrator(orScope: scopes, action: action)
    }

    /// ``requireAdministrator(orScope:action:)`` with the scopes as a list.
    func requireAdministrator(orScope scopes: [CustomAdminRole], action: String) throws(DirectoryError) {
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

    /// Where the actor stands in the order of authority.
    var authorityLevel: AuthorityLevel {
        if isSystem { return .system }
        return user?.authorityLevel ?? .user
    }

    /// Whether the actor stands strictly above `target` in the order of authority.
    func outranks(_ target: User) -> Bool {
        authorityLevel > target.authorityLevel
    }

    /// The one check of authority over accounts, which every handler that acts on an
    /// account asks: the actor's role or custom scope must cover `act`, and the actor must
    /// stand strictly above `target` (Super Administrator > Administrator > custom
    /// administrator > user). On its own account an actor does what ``AccountAct/onSelf``
    /// allows.
    func requireAuthority(over target: User, for act: AccountAct) throws(DirectoryError) {
        if target.id == userID {
            switch act.onSelf {
            case .open:
                return
            case .withScope:
                try requireAdministrator(orScope: act.scopes, action: act.activity)
                return
            case .administratorsOnly:
                guard isAdministrator else {
                    throw .denied(.authorityOrder, "only an administrator may \(act.rawValue) their own account")
                }
                return
            case .never:
                throw .denied(.authorityOrder, "nobody may \(act.rawValue) their own account")
            }
        }
        try requireAdministrator(orScope: act.scopes, action: act.activity)
        guard outranks(target) else {
            if target.role == .superAdministrator {
                throw .denied(.protectedSuperAdministrator, "nobody may \(act.rawValue) the super administrator's account")
            }
            throw .denied(
                .authorityOrder,
                "\(authorityLevel) may not \(act.rawValue) \(target.authorityLevel) (\(target.address)): only accounts below one's own"
            )
        }
    }
}
