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
    /// Whether `user` has a second factor.
    case secondFactor(user: String)
}

extension Directory {
    /// Whether `principal` may run `query`, or the refusal with its rule.
    ///
    /// Administrators see everything (rule 9: every delegation and who may open or send as
    /// any mailbox). Service accounts run the mail-server queries but not the administrators'
    /// listings. Users ask about themselves, their own mailbox and the address book; the
    /// audit log needs an administrator or the Helpdesk role. Blocked accounts get nothing.
    public func authorizeQuery(_ query: QueryKind, by principal: Principal) throws(DirectoryError) {
        try queryAuthorization(for: principal).authorize(query, in: self)
    }

    /// What query rights `principal` holds in this version of the directory, looked up
    /// once: a connection asks thousands of queries of one version, and looking its account
    /// up for each copied the whole entry out of the map every time.
    ///
    /// - Throws: the refusal for a blocked or deleted account.
    public func queryAuthorization(for principal: Principal) throws(DirectoryError) -> QueryAuthorization {
        switch principal {
        case .system:
            return QueryAuthorization(holder: .system)
        case .service(let id):
            guard let service = services[id], !service.blocked else { throw .denied(.blockedAccount, "the account is blocked or gone") }
            return QueryAuthorization(holder: .service)
        case .user(let id):
            guard let found = users[id] else { throw .denied(.blockedAccount, "the account is gone") }
            guard !found.blocked else { throw .denied(.blockedAccount, "the account is blocked") }
            return QueryAuthorization(holder: found.role.isAdministrator ? .administrator : .user(id: found.id, address: found.address, customRoles: found.customRoles))
        }
    }
}

/// The query rights of one principal in one version of the directory.
public struct QueryAuthorization: Sendable {
    enum Holder: Sendable {
        case system
        case service
        case administrator
        case user(id: EntityID, address: EmailAddress, customRoles: Set<CustomAdminRole>)
    }

    let holder: Holder

    /// Whether the holder may ask `SENDAS` and `SENDONBEHALF` about any login, so that the
    /// login need not be read to authorize the query: all but users, who may ask only about
    /// themselves.
    public var mayAskAboutAnyLogin: Bool {
        switch holder {
        case .system, .administrator, .service: true
        case .user: false
        }
    }

    /// Whether the holder may ask `DELEGATES` about any mailbox, so that the mailbox's owner
    /// need not be read to authorize the query: the holders ``mayAskAboutAnyLogin`` names,
    /// as ``authorize(_:in:)`` decides for ``QueryKind/delegates(mailbox:)``.
    public var mayListAnyMailboxDelegates: Bool {
        switch holder {
        case .system, .administrator, .service: true
        case .user: false
        }
    }

    /// Whether the holder may run `query` on `directory` (the version this was made from).
    public func authorize(_ query: QueryKind, in directory: Directory) throws(DirectoryError) {
        let id: EntityID, address: EmailAddress, customRoles: Set<CustomAdminRole>
        switch holder {
        case .system, .administrator:
            return
        case .service:
            switch query {
            case .allDelegations, .audit:
                throw .denied(.mailboxDelegation, "service accounts may not list the whole organisation's delegations or audit log")
            case .secondFactor:
                throw .denied(.ownEntriesOnly, "service accounts may not ask about second factors")
            default:
                return
            }
        case .user(let userID, let userAddress, let roles):
            (id, address, customRoles) = (userID, userAddress, roles)
        }
        let isSelf = { (login: String) in EmailAddress(login) == address }
        let ownsAddress = { (candidate: String) -> Bool in
            guard let candidate = EmailAddress(candidate) else { return false }
            switch directory.owner(of: candidate) {
            case .user(let owner), .alias(let owner): return owner == id
            case .group(let group): return directory.group(id: group)?.owner == id
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
            guard customRoles.contains(.helpdesk) else {
                throw .denied(.customRoleScope, "reading the audit log needs an administrator or the helpdesk role")
            }
        case .spamSettings:
            guard customRoles.contains(.spamControl) else {
                throw .denied(.customRoleScope, "spam control settings need an administrator or the spam control role")
            }
        case .secondFactor(let login):
            guard isSelf(login) || customRoles.contains(.helpdesk) else {
                throw .denied(.ownEntriesOnly, "users may ask only about their own second factor")
            }
        case .members, .entries, .organization:
            return
        }
    }
}
