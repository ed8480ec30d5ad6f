/// The actor of a command, resolved against the directory, with the questions the rules ask.
struct Actor {
    let principal: Principal
    /// The user behind the actor, for user principals.
    let user: User?
    /// The user's second factor, confirmed or pending.
    var factor: SecondFactor? = nil

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

    /// Whether the actor has a confirmed second factor.
    var hasConfirmedFactor: Bool { factor?.confirmed ?? false }

    /// The one check of fresh proof before a sensitive act (``Rule/secondFactor``): an actor
    /// with a confirmed factor must have proved it within the re-authentication window; one
    /// without needs a recent password re-authentication where `passwordWindow` is set (the
    /// super administrator transfer), and nothing more otherwise.
    func requireFreshProof(_ context: CommandContext, rule: Rule, action: String, passwordWindow: Bool) throws(DirectoryError) {
        if isSystem { return }
        if hasConfirmedFactor {
            guard context.isRecentlyFactorVerified else {
                throw DirectoryError(
                    .reauthenticationRequired, rule: .secondFactor,
                    "REAUTH with your password and a code from your authenticator within the last 5 minutes to \(action)"
                )
            }
            return
        }
        if passwordWindow, !context.isRecentlyReauthenticated {
            throw DirectoryError(.reauthenticationRequired, rule: rule, "re-authenticate within the last 5 minutes to \(action)")
        }
    }

    /// Where the organisation requires a second factor of administrators, an administrator
    /// or custom administrator without a confirmed one may do nothing but enrol it.
    func requireFactorWhereRequired(by organization: Organization?, for command: Command) throws(DirectoryError) {
        guard let organization, organization.requireAdministratorFactor, !isSystem, authorityLevel >= .customAdministrator,
            !hasConfirmedFactor
        else { return }
        guard command.enrolsSecondFactor else {
            throw .denied(.secondFactor, "the organisation requires a second factor of administrators: enrol one with MFA ENROLL and MFA CONFIRM first")
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
