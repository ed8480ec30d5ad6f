import HashTreeCollections

/// The queries of the directory, for deciding who may run which.
public enum QueryKind: Hashable, Sendable {
    /// A send-as or send-on-behalf check for `login`.
    case sending(login: String)
    /// The rights of `user` on a mailbox.
    case access(user: String, mailbox: String)
    /// The delegates of `mailbox`.
    case delegates(mailbox: String)
    /// The mailboxes `user` may open.
    case mailboxes(user: String)
    /// The logins that may send as `address`.
    case senders(address: String)
    /// The privileges of `user`.
    case privileges(user: String)
    /// The members of a group.
    case members(group: String)
    /// One entry, or a search.
    case entries
    /// Every delegation of the organisation.
    case allDelegations
    /// The audit log.
    case audit
    /// The spam control settings.
    case spamSettings
    /// The organisation's settings.
    case organization
}

extension Directory {
    /// Whether `principal` may run `query`, or the refusal with its rule.
    ///
    /// Administrators see everything (rule 9: every delegation and who may open or send as
    /// any mailbox). Service accounts run the mail-server queries but not the administrators'
    /// listings. Users ask about themselves, their own mailbox and the address book; the
    /// audit log needs an administrator or the Helpdesk role. Blocked accounts get nothing.
    public func authorizeQuery(_ query: QueryKind, by principal: Principal) throws(DirectoryError) {
        let user: User
        switch principal {
        case .system:
            return
        case .service(let id):
            guard let service = services[id], !service.blocked else { throw .denied(.blockedAccount, "the account is blocked or gone") }
            switch query {
            case .allDelegations, .audit:
                throw .denied(.mailboxDelegation, "service accounts may not list the whole organisation's delegations or audit log")
            default:
                return
            }
        case .user(let id):
            guard let found = users[id] else { throw .denied(.blockedAccount, "the account is gone") }
            guard !found.blocked else { throw .denied(.blockedAccount, "the account is blocked") }
            user = found
        }
        if user.role.isAdministrator { return }
        let isSelf = { (login: String) in EmailAddress(login) == user.address }
        let ownsAddress = { (address: String) -> Bool in
            guard let address = EmailAddress(address) else { return false }
            switch self.owner(of: address) {
            case .user(let id), .alias(let id): return id == user.id
            case .group(let id): return self.groups[id]?.owner == user.id
            case nil: return false
            }
        }
        switch query {
        case .sending(let login), .mailboxes(let login), .privileges(let login):
            guard isSelf(login) else { throw .denied(.ownEntriesOnly, "users may ask only about themselves") }
        case .access(let login, _):
            guard isSelf(login) else { throw .denied(.ownEntriesOnly, "users may ask only about their own access") }
        case .delegates(let mailbox), .senders(let mailbox):
            guard ownsAddress(mailbox) else {
                throw .denied(.mailboxDelegation, "only administrators see the delegations of another user's mailbox")
            }
        case .allDelegations:
            throw .denied(.mailboxDelegation, "only administrators list every delegation")
        case .audit:
            guard user.customRoles.contains(.helpdesk) else {
                throw .denied(.customRoleScope, "reading the audit log needs an administrator or the helpdesk role")
            }
        case .spamSettings:
            guard user.customRoles.contains(.spamControl) else {
                throw .denied(.customRoleScope, "spam control settings need an administrator or the spam control role")
            }
        case .members, .entries, .organization:
            return
        }
    }
}
