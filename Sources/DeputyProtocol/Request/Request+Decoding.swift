import DeputyCore
import Foundation

extension Request {
    /// Why a well-formed line is not an acceptable request: a value that is not an address,
    /// a domain, a time, a role. Answered as `ERR <code> <message>`, like the refusals of the
    /// directory.
    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        public let code: ErrorCode
        public let message: String

        init(_ code: ErrorCode, _ message: String) {
            self.code = code
            self.message = message
        }

        init(_ message: String) {
            self.init(.invalid, message)
        }

        public var description: String { message }
    }

    /// The arguments of a line whose shape matched its entry: the operands after the verb and
    /// subverb, and the named arguments.
    struct Arguments {
        let line: RequestLine
        let operands: [String]

        init(_ line: RequestLine, entry: VerbSyntax.Entry) {
            self.line = line
            self.operands = entry.operands(of: line)
        }

        /// The `index`th operand; the table checked how many there are.
        subscript(_ index: Int) -> String { operands[index] }

        /// The optional `index`th operand.
        func optional(_ index: Int) -> String? { index < operands.count ? operands[index] : nil }

        func named(_ key: String) -> String? { line.named(key) }

        func address(_ index: Int, _ what: String) throws(DecodingError) -> EmailAddress {
            try Self.address(self[index], what)
        }

        static func address(_ text: String, _ what: String) throws(DecodingError) -> EmailAddress {
            guard let address = EmailAddress(text) else { throw DecodingError("\(what) is not a valid mail address") }
            return address
        }

        func addresses(_ key: String, _ what: String) throws(DecodingError) -> [EmailAddress] {
            guard let text = named(key), !text.isEmpty else { return [] }
            var result: [EmailAddress] = []
            for item in text.split(separator: ",") { result.append(try Self.address(String(item), what)) }
            return result
        }

        static func domain(_ text: String) throws(DecodingError) -> DomainName {
            guard let domain = DomainName(text) else { throw DecodingError("\(text.prefix(64)) is not a valid domain") }
            return domain
        }

        func domains(_ key: String) throws(DecodingError) -> [DomainName] {
            guard let text = named(key), !text.isEmpty else { return [] }
            var result: [DomainName] = []
            for item in text.split(separator: ",") { result.append(try Self.domain(String(item))) }
            return result
        }

        static func service(_ text: String) throws(DecodingError) -> ServiceName {
            guard let name = ServiceName(text) else {
                throw DecodingError("a service name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter")
            }
            return name
        }

        /// `yes` or `on` is true; the table allows only those words and `no`, `off`.
        func yes(_ key: String) -> Bool? {
            named(key).map { $0 == "yes" || $0 == "on" }
        }

        func time(_ key: String) throws(DecodingError) -> Date? {
            guard let text = named(key) else { return nil }
            guard let date = Timestamp.parse(text) else { throw DecodingError("\(key) must be an RFC 3339 time such as 2026-12-01T09:00:00Z") }
            return date
        }

        /// A `number` parameter (the table allows 1 to 9 digits only).
        func number(_ key: String) -> Int? {
            named(key).flatMap { Int($0) }
        }

        func spamAction(_ key: String) throws(DecodingError) -> SpamAction? {
            guard let text = named(key) else { return nil }
            guard let action = SpamAction(rawValue: text) else {
                throw DecodingError("\(key) must be one of \(SpamAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return action
        }

        /// A setting that an empty value clears.
        func update(_ key: String) -> FieldUpdate<String>? {
            named(key).map { $0.isEmpty ? .clear : .set($0) }
        }

        /// The local part of the first operand as typed, the default display name.
        var localPartAsTyped: String {
            String(self[0].prefix { $0 != "@" })
        }
    }

    // MARK: - Session

    static func decodeBind(_ a: Arguments) throws(DecodingError) -> Request { .bind(login: a[0], password: a.optional(1)) }
    static func decodeReauth(_ a: Arguments) throws(DecodingError) -> Request { .reauth(password: a[0], code: a.optional(1)) }
    static func decodeWhoami(_ a: Arguments) throws(DecodingError) -> Request { .whoami }
    static func decodePing(_ a: Arguments) throws(DecodingError) -> Request { .ping }
    static func decodeHelp(_ a: Arguments) throws(DecodingError) -> Request { .help(topic: a.optional(0)) }
    static func decodeQuit(_ a: Arguments) throws(DecodingError) -> Request { .quit }
    static func decodeSnapshot(_ a: Arguments) throws(DecodingError) -> Request { .snapshot }

    // MARK: - Changes

    static func decodeAddUser(_ a: Arguments) throws(DecodingError) -> Request {
        .add(.user(NewUserRequest(
            address: try a.address(0, "the address"), password: try initialPassword(a), name: a.named("name") ?? a.localPartAsTyped,
            recovery: try a.named("recovery").map { text throws(DecodingError) in try Arguments.address(text, "the recovery address") },
            aliases: try a.addresses("aliases", "an alias"), policy: a.named("policy"), dryRun: a.yes("dryrun") ?? false
        )))
    }

    static func decodeAddGroup(_ a: Arguments) throws(DecodingError) -> Request {
        .add(.group(NewGroupRequest(
            address: try a.address(0, "the address"), name: a.named("name") ?? a.localPartAsTyped,
            kind: a.named("kind").flatMap(GroupKind.init(rawValue:)) ?? .organization,
            membersMaySendAs: a.yes("sendas") ?? false, members: try a.addresses("members", "a member")
        )))
    }

    static func decodeAddService(_ a: Arguments) throws(DecodingError) -> Request {
        .add(.service(try Arguments.service(a[0]), password: try initialPassword(a)))
    }

    /// `password=` of an account being added: left out, the account can't log in until one
    /// is set; given empty, it is refused rather than stored as a password of nothing.
    private static func initialPassword(_ a: Arguments) throws(DecodingError) -> String? {
        guard let password = a.named("password") else { return nil }
        guard !password.isEmpty else {
            throw DecodingError("the password can't be empty; leave password= out for an account that can't log in until one is set")
        }
        return password
    }

    static func decodeAddPolicy(_ a: Arguments) throws(DecodingError) -> Request {
        .add(.policy(name: a[0], mailboxDelegation: a.yes("delegation") ?? true))
    }

    static func decodeAddDomain(_ a: Arguments) throws(DecodingError) -> Request {
        .add(.domain(try Arguments.domain(a[0])))
    }

    static func decodeDeleteUser(_ a: Arguments) throws(DecodingError) -> Request { .delete(.user(try a.address(0, "the address"))) }
    static func decodeDeleteGroup(_ a: Arguments) throws(DecodingError) -> Request { .delete(.group(try a.address(0, "the address"))) }
    static func decodeDeleteService(_ a: Arguments) throws(DecodingError) -> Request { .delete(.service(try Arguments.service(a[0]))) }
    static func decodeDeletePolicy(_ a: Arguments) throws(DecodingError) -> Request { .delete(.policy(a[0])) }
    static func decodeDeleteDomain(_ a: Arguments) throws(DecodingError) -> Request { .delete(.domain(try Arguments.domain(a[0]))) }

    static func decodeModifyUser(_ a: Arguments) throws(DecodingError) -> Request {
        let address = try a.address(0, "the address")
        if let blocked = a.yes("blocked") {
            guard a.line.namedArguments.count == 1 else {
                throw DecodingError("blocked= can't be combined with other changes in one request")
            }
            return .modify(.userBlocked(address, blocked))
        }
        let recovery: FieldUpdate<EmailAddress>? = try a.named("recovery").map { text throws(DecodingError) in
            text.isEmpty ? .clear : .set(try Arguments.address(text, "the recovery address"))
        }
        return .modify(.user(address, UserChanges(
            displayName: a.named("name"), recoveryAddress: recovery,
            addAliases: try a.addresses("addalias", "an alias"), removeAliases: try a.addresses("delalias", "an alias"),
            policy: a.update("policy")
        )))
    }

    static func decodeModifyGroup(_ a: Arguments) throws(DecodingError) -> Request {
        .modify(.group(try a.address(0, "the address"), GroupChanges(
            name: a.named("name"), membersMaySendAs: a.yes("sendas"), policy: a.update("policy"),
            addMembers: try a.addresses("addmember", "a member"), removeMembers: try a.addresses("delmember", "a member")
        )))
    }

    static func decodeModifyOrganization(_ a: Arguments) throws(DecodingError) -> Request {
        .modify(.organization(OrganizationChanges(
            name: a.named("name"), logo: a.update("logo"), defaultPolicy: a.named("defaultpolicy"),
            organizationGroups: a.named("orggroups").flatMap(GroupCreationLevel.init(rawValue:)),
            personalGroups: a.named("personalgroups").flatMap(GroupCreationLevel.init(rawValue:)),
            personalGroupsAllowExternal: a.yes("personalexternal"), organizationGroupsAllowExternal: a.yes("orgexternal"),
            reservedLocalParts: a.named("reserved").map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) },
            requireAdministratorFactor: a.yes("adminfactor"), auditRetentionDays: a.number("auditdays")
        )))
    }

    static func decodeModifyPolicy(_ a: Arguments) throws(DecodingError) -> Request {
        guard let delegation = a.yes("delegation") else { throw DecodingError("nothing to change") }
        return .modify(.policy(name: a[0], mailboxDelegation: delegation))
    }

    static func decodeModifySpam(_ a: Arguments) throws(DecodingError) -> Request {
        .modify(.spam(SpamChanges(
            allowSenders: try a.addresses("allowsender", "a sender"), unallowSenders: try a.addresses("unallowsender", "a sender"),
            blockSenders: try a.addresses("blocksender", "a sender"), unblockSenders: try a.addresses("unblocksender", "a sender"),
            allowDomains: try a.domains("allowdomain"), unallowDomains: try a.domains("unallowdomain"),
            blockDomains: try a.domains("blockdomain"), unblockDomains: try a.domains("unblockdomain"),
            spfFailure: try a.spamAction("spf"), dkimFailure: try a.spamAction("dkim"),
            dmarcFailure: try a.spamAction("dmarc"), dnsblFailure: try a.spamAction("dnsbl")
        )))
    }

    static func decodePasswd(_ a: Arguments) throws(DecodingError) -> Request {
        let new = a.named("new") ?? ""
        guard !new.isEmpty else { throw DecodingError("the new password can't be empty") }
        return .passwd(login: a[0], old: a.named("old"), new: new)
    }

    static func decodeGrant(_ a: Arguments) throws(DecodingError) -> Request {
        let login = try a.address(1, "the login")
        return .grant(try role(a[0]), login: login)
    }

    static func decodeRevoke(_ a: Arguments) throws(DecodingError) -> Request {
        let login = try a.address(1, "the login")
        let role = try role(a[0])
        guard role != .superAdministrator else {
            throw DecodingError("the super administrator role is handed over with GRANT superadmin, never revoked")
        }
        return .revoke(role, login: login)
    }

    private static func role(_ text: String) throws(DecodingError) -> RoleName {
        guard let role = RoleName(text) else {
            throw DecodingError("the role is admin, superadmin or one of \(CustomAdminRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return role
    }

    static func decodeDelegate(_ a: Arguments) throws(DecodingError) -> Request {
        guard let permissions = PermissionSet(parsing: a[2]) else {
            throw DecodingError("permissions is a comma list of read, manage, sendonbehalf, sendas")
        }
        let expiry = try a.time("expires")
        return .delegate(NewDelegation(
            mailbox: try a.address(0, "the mailbox"), delegate: try a.address(1, "the delegate"), permissions: permissions, expiresAt: expiry
        ))
    }

    static func decodeUndelegate(_ a: Arguments) throws(DecodingError) -> Request {
        .undelegate(mailbox: try a.address(0, "the mailbox"), delegate: try a.address(1, "the delegate"))
    }

    // MARK: - Second factor

    static func decodeMFAEnroll(_ a: Arguments) throws(DecodingError) -> Request { .mfa(.enroll) }

    static func decodeMFAConfirm(_ a: Arguments) throws(DecodingError) -> Request {
        guard TOTP.isCode(a[0]) else { throw DecodingError("the code is the \(TOTP.digits) digits the authenticator shows") }
        return .mfa(.confirm(code: a[0]))
    }

    static func decodeMFARemove(_ a: Arguments) throws(DecodingError) -> Request {
        .mfa(.remove(login: try a.optional(0).map { text throws(DecodingError) in try Arguments.address(text, "the login") }))
    }

    static func decodeMFAStatus(_ a: Arguments) throws(DecodingError) -> Request { .mfa(.status(login: a.optional(0))) }

    // MARK: - Reading

    static func decodeAudit(_ a: Arguments) throws(DecodingError) -> Request {
        .audit(AuditQuery(
            since: try a.time("since"), until: try a.time("until"), actor: a.named("actor"), target: a.named("target"),
            after: a.named("after").flatMap(UInt64.init), before: a.named("before").flatMap(UInt64.init), limit: a.number("limit")
        ))
    }

    static func decodeSendAs(_ a: Arguments) throws(DecodingError) -> Request { .query(.sendAs(login: a[0], address: a[1])) }
    static func decodeSendOnBehalf(_ a: Arguments) throws(DecodingError) -> Request { .query(.sendOnBehalf(login: a[0], address: a[1])) }
    static func decodeAccess(_ a: Arguments) throws(DecodingError) -> Request { .query(.access(user: a[0], mailbox: a[1])) }
    static func decodeDelegates(_ a: Arguments) throws(DecodingError) -> Request { .query(.delegates(mailbox: a[0])) }
    static func decodeMailboxes(_ a: Arguments) throws(DecodingError) -> Request { .query(.mailboxes(user: a[0])) }
    static func decodeSenders(_ a: Arguments) throws(DecodingError) -> Request { .query(.senders(address: a[0])) }
    static func decodeHolders(_ a: Arguments) throws(DecodingError) -> Request {
        // The table allows only the permissions' own words.
        .query(.holders(address: a[0], permission: a.named("permission").flatMap(Permission.init(rawValue:))))
    }
    static func decodeRights(_ a: Arguments) throws(DecodingError) -> Request { .query(.rights(user: a[0])) }
    static func decodePrivileges(_ a: Arguments) throws(DecodingError) -> Request { .query(.privileges(user: a[0])) }
    static func decodeMembers(_ a: Arguments) throws(DecodingError) -> Request { .query(.members(group: a[0], expanded: a.yes("expand") ?? false)) }
    static func decodeEntry(_ a: Arguments) throws(DecodingError) -> Request { .query(.entry(a[0])) }
    static func decodeDelegations(_ a: Arguments) throws(DecodingError) -> Request { .query(.delegations(offset: a.number("offset") ?? 0)) }
    static func decodeSpam(_ a: Arguments) throws(DecodingError) -> Request { .query(.spam) }
    static func decodePolicies(_ a: Arguments) throws(DecodingError) -> Request { .query(.policies) }
    static func decodeOrganization(_ a: Arguments) throws(DecodingError) -> Request { .query(.organization) }

    static func decodeSearch(_ a: Arguments) throws(DecodingError) -> Request {
        do {
            return .query(.search(try SearchQuery(a[0], limit: a.number("limit"), offset: a.number("offset") ?? 0)))
        } catch {
            throw DecodingError(.syntax, "filter: \(error.message)")
        }
    }
}
