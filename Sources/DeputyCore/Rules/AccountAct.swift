/// Something one account does to another: the acts the order of authority governs.
///
/// Each act names who may do it at all (administrators, and the custom administrator roles
/// whose scope covers it) and whether an account may do it to itself. Whether the actor may
/// do it to a particular account is then the order's question alone
/// (``Actor/requireAuthority(over:for:)``).
public enum AccountAct: String, Sendable, CaseIterable {
    /// Change the display name.
    case rename = "rename"
    /// Set or clear the recovery address.
    case setRecovery = "set the recovery address of"
    /// Add or remove aliases, or assign an email policy: aliases carry the right to send.
    case changeAddresses = "change the addresses or policy of"
    /// Set the password.
    case setPassword = "change the password of"
    /// Block or unblock.
    case block = "block or unblock"
    /// Delete the account.
    case delete = "delete"
    /// Grant or revoke a custom administrator role.
    case changeCustomRoles = "change the custom administrator roles of"
    /// Delegate the account's mailbox, or change a delegation of it.
    case delegateMailbox = "delegate the mailbox of"
    /// Remove a delegation of the account's mailbox (the delegate may always give one up).
    case undelegateMailbox = "remove a delegation of the mailbox of"
    /// Manage a personal group the account owns.
    case managePersonalGroup = "manage a personal group of"
    /// Remove the account's second factor (a reset, when it is someone else's).
    case resetSecondFactor = "reset the second factor of"

    /// The custom administrator roles whose scope covers the act on other accounts;
    /// administrators need none.
    var scopes: [CustomAdminRole] {
        switch self {
        case .rename, .changeAddresses, .setPassword, .delete: [.userManagement]
        case .setRecovery: [.userManagement, .helpdesk]
        case .block: [.helpdesk]
        case .managePersonalGroup: [.groupManagement]
        case .changeCustomRoles, .delegateMailbox, .undelegateMailbox, .resetSecondFactor: []
        }
    }

    /// What an account needs to do this to itself (the handler may still ask for more, such
    /// as a recent re-authentication or a policy that allows delegation).
    var onSelf: SelfAct {
        switch self {
        case .rename, .setRecovery, .setPassword, .delegateMailbox, .undelegateMailbox, .managePersonalGroup, .resetSecondFactor: .open
        case .delete: .withScope
        // Aliases carry the right to send as them: a user manager doesn't give them to itself.
        case .changeAddresses: .administratorsOnly
        // Nobody raises their own rights; blocking oneself is refused as a conflict first.
        case .changeCustomRoles, .block: .never
        }
    }

    /// What an account needs to do an act to itself.
    enum SelfAct {
        /// Anyone may.
        case open
        /// Those whose role or scope covers the act on others.
        case withScope
        /// Administrators only.
        case administratorsOnly
        /// Nobody.
        case never
    }

    /// A short gerund for refusals about scope: `deleting users`.
    var activity: String {
        switch self {
        case .rename: "changing user settings"
        case .setRecovery: "setting recovery addresses"
        case .changeAddresses: "changing aliases and policies"
        case .setPassword: "changing passwords"
        case .block: "blocking and unblocking accounts"
        case .delete: "deleting users"
        case .changeCustomRoles: "granting and revoking custom administrator roles"
        case .delegateMailbox: "delegating another user's mailbox"
        case .undelegateMailbox: "removing delegations of another user's mailbox"
        case .managePersonalGroup: "managing another user's personal group"
        case .resetSecondFactor: "resetting second factors"
        }
    }
}
