/// A rule of the directory, named in every refusal it causes.
///
/// The raw values are stable words: the protocol's `denied` replies and the audit log show them.
public enum Rule: String, Codable, Sendable, CaseIterable {
    /// Rule 1: there is exactly one super administrator, always.
    case singleSuperAdministrator = "single-superadmin"
    /// Rule 2: only the super administrator changes a user into an administrator or back.
    case roleChangeBySuperAdministrator = "role-change-by-superadmin"
    /// Rule 3: only the super administrator hands over the role, to an administrator,
    /// after re-authenticating within the last five minutes.
    case superAdministratorTransfer = "superadmin-transfer"
    /// Rule 4: only the super administrator changes the organisation's name and logo.
    case organizationIdentityBySuperAdministrator = "org-identity-by-superadmin"
    /// Only the super administrator sets how long the audit log keeps its records: a shorter
    /// retention removes the record of what was done, administrators' acts included.
    case auditRetentionBySuperAdministrator = "audit-retention-by-superadmin"
    /// Rule 5: administrators may do everything else.
    case administratorsManage = "admins-manage"
    /// Rule 6: a custom administrator role grants only its scope.
    case customRoleScope = "custom-role-scope"
    /// Rule 7: who may create organisation groups.
    case organizationGroupCreation = "org-group-creation"
    /// Rule 8: who may create personal groups, and whether they hold outside members.
    case personalGroupCreation = "personal-group-creation"
    /// Rule 9: who may delegate a mailbox, and who may see delegations.
    case mailboxDelegation = "mailbox-delegation"
    /// Rule 10: the super administrator is untouchable except by transfer; no right without
    /// an authorised grant; blocked accounts get nothing.
    case protectedSuperAdministrator = "protected-superadmin"
    /// The order of authority: Super Administrator > Administrator > custom administrator >
    /// user. An actor acts on another account (changes, blocks, deletes, resets the password
    /// of, delegates the mailbox of, grants roles to) only when it stands strictly above it.
    case authorityOrder = "authority-order"
    /// Service accounts may only query.
    case serviceAccountsOnlyQuery = "service-query-only"
    /// Users act on what is their own, and nothing else.
    case ownEntriesOnly = "own-entries-only"
    /// An account with a second factor proves it (REAUTH with a code) within the last five
    /// minutes before a sensitive act: handing over the super administrator role, granting
    /// admin, changing the organisation's name or logo, removing or resetting a factor. Where
    /// the organisation requires it, administrators and custom administrators act only once
    /// they have one.
    case secondFactor = "second-factor"
    /// A blocked account can do nothing.
    case blockedAccount = "blocked-account"
}
