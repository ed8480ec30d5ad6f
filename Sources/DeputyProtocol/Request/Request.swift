import DeputyCore
import Foundation

/// A request of the protocol, parsed once into typed values: one case per verb, and per
/// subverb through the nested enums.
///
/// ```
/// QUERY SENDAS bob@example.org sales@example.org   ->   .query(.sendAs(login: "bob@example.org", address: "sales@example.org"))
/// DELETE USER carol@example.org                    ->   .delete(.user(carol@example.org))
/// ```
///
/// The server decodes a ``RequestLine`` into a `Request` through the verb table
/// (``VerbSyntax/Entry/decode(_:)``), after checking its shape; a client builds a `Request`
/// and sends its ``line``. Adding a case fails to compile wherever requests are answered,
/// encoded or named, until it is handled there.
///
/// Lookups (`QUERY`) keep their operands as the text the client sent: an address nobody
/// has is an answer (`allowed=no via=unknown-address`), not a malformed request. Changes
/// carry the core's validated values.
public enum Request: Hashable, Sendable {
    // MARK: - Session

    /// `BIND <login> [password]`: authenticates the session; without a password, a service
    /// account by its verified client certificate.
    case bind(login: String, password: String?)
    /// `REAUTH <password> [code]`: proves the password again, and the second factor where the
    /// account has one (a code from the authenticator or a recovery code), opening the
    /// window for sensitive acts.
    case reauth(password: String, code: String? = nil)
    /// `WHOAMI`: the bound identity and its roles.
    case whoami
    /// `PING`: `OK pong`.
    case ping
    /// `HELP [verb]`: the verb table, or one verb's entries.
    case help(topic: String?)
    /// `QUIT`: `OK bye`, then the connection closes.
    case quit

    // MARK: - Changes

    /// `ADD USER|GROUP|SERVICE|POLICY|DOMAIN ...`
    case add(Add)
    /// `DELETE USER|GROUP|SERVICE|POLICY|DOMAIN <name>`
    case delete(Delete)
    /// `MODIFY USER|GROUP|ORG|POLICY|SPAM ...`
    case modify(Modify)
    /// `PASSWD <login> [old=<pw>] new=<pw>`: a user's or a service account's password.
    case passwd(login: String, old: String?, new: String)
    /// `GRANT <role> <login>`
    case grant(RoleName, login: EmailAddress)
    /// `REVOKE <role> <login>` (never `superadmin`, which is handed over).
    case revoke(RoleName, login: EmailAddress)
    /// `DELEGATE <mailbox> <delegate> <permissions> [expires=<time>]`
    case delegate(NewDelegation)
    /// `UNDELEGATE <mailbox> <delegate>`
    case undelegate(mailbox: EmailAddress, delegate: EmailAddress)
    /// `SNAPSHOT`: writes a snapshot of the store now.
    case snapshot
    /// `MFA ENROLL|CONFIRM|REMOVE|STATUS ...`: the second factor.
    case mfa(MFA)

    // MARK: - Reading

    /// `QUERY <subverb> ...`
    case query(Query)
    /// `AUDIT [since=] [until=] [actor=] [target=] [after=] [limit=]`
    case audit(AuditQuery)
    /// A `QUERY` or `AUDIT` with `revision=<n>`: answered once the server's directory has
    /// reached revision n, the revision a change was answered with on any node (cluster
    /// mode), so a client reads its own writes wherever it reads.
    indirect case atRevision(UInt64, Request)

    // MARK: - Nested

    /// The `ADD` subverbs.
    public enum Add: Hashable, Sendable {
        /// `ADD USER <address> [password=] [name=] [recovery=] [aliases=a,b] [policy=] [dryrun=yes]`
        case user(NewUserRequest)
        /// `ADD GROUP <address> [name=] [kind=organization|personal] [sendas=yes|no] [members=a,b]`
        case group(NewGroupRequest)
        /// `ADD SERVICE <name> [password=]`
        case service(ServiceName, password: String?)
        /// `ADD POLICY <name> [delegation=on|off]`
        case policy(name: String, mailboxDelegation: Bool)
        /// `ADD DOMAIN <domain>`
        case domain(DomainName)
    }

    /// The `DELETE` subverbs.
    public enum Delete: Hashable, Sendable {
        /// `DELETE USER <address>`
        case user(EmailAddress)
        /// `DELETE GROUP <address>`
        case group(EmailAddress)
        /// `DELETE SERVICE <name>`
        case service(ServiceName)
        /// `DELETE POLICY <name>`
        case policy(String)
        /// `DELETE DOMAIN <domain>`
        case domain(DomainName)
    }

    /// The `MODIFY` subverbs.
    public enum Modify: Hashable, Sendable {
        /// `MODIFY USER <address> [name=] [recovery=] [addalias=] [delalias=] [policy=]`
        case user(EmailAddress, UserChanges)
        /// `MODIFY USER <address> blocked=yes|no`, which takes no other change.
        case userBlocked(EmailAddress, Bool)
        /// `MODIFY GROUP <address> [name=] [sendas=] [addmember=] [delmember=] [policy=]`
        case group(EmailAddress, GroupChanges)
        /// `MODIFY ORG [name=] [logo=] [defaultpolicy=] [orggroups=] [personalgroups=] ...`
        case organization(OrganizationChanges)
        /// `MODIFY POLICY <name> delegation=on|off`
        case policy(name: String, mailboxDelegation: Bool)
        /// `MODIFY SPAM [allowsender=] [blocksender=] ... [spf=] [dkim=] [dmarc=] [dnsbl=]`
        case spam(SpamChanges)
    }

    /// The `QUERY` subverbs.
    public enum Query: Hashable, Sendable {
        /// `QUERY SENDAS <login> <address>`
        case sendAs(login: String, address: String)
        /// `QUERY SENDONBEHALF <login> <address>`
        case sendOnBehalf(login: String, address: String)
        /// `QUERY ACCESS <user> <mailbox>`
        case access(user: String, mailbox: String)
        /// `QUERY DELEGATES <mailbox>`
        case delegates(mailbox: String)
        /// `QUERY MAILBOXES <user>`
        case mailboxes(user: String)
        /// `QUERY SENDERS <address>`
        case senders(address: String)
        /// `QUERY HOLDERS <address> [permission=]`: who may use the address, and how.
        case holders(address: String, permission: Permission?)
        /// `QUERY RIGHTS <user>`: what the user may do on every mailbox, and how.
        case rights(user: String)
        /// `QUERY PRIVILEGES <user>`
        case privileges(user: String)
        /// `QUERY MEMBERS <group> [expand=yes]`: direct members (nested groups among them), or
        /// everyone inside, with the nested group that holds each.
        case members(group: String, expanded: Bool = false)
        /// `QUERY ENTRY <address-or-dn>`
        case entry(String)
        /// `QUERY DELEGATIONS [offset=]`
        case delegations(offset: Int)
        /// `QUERY SEARCH <filter> [limit=] [offset=]`
        case search(SearchQuery)
        /// `QUERY SPAM`
        case spam
        /// `QUERY POLICIES`
        case policies
        /// `QUERY ORG`
        case organization
    }

    /// The `MFA` subverbs.
    public enum MFA: Hashable, Sendable {
        /// `MFA ENROLL`: a new TOTP secret for the bound user, pending until confirmed.
        case enroll
        /// `MFA CONFIRM <code>`: confirms the pending factor with a first code.
        case confirm(code: String)
        /// `MFA REMOVE [login]`: removes one's own factor, or resets another user's.
        case remove(login: EmailAddress?)
        /// `MFA STATUS [login]`: whether a user has a factor, and how many recovery codes remain.
        case status(login: String?)
    }

    /// A role `GRANT` and `REVOKE` name.
    public enum RoleName: Hashable, Sendable {
        /// `admin`
        case administrator
        /// `superadmin`: handed over by `GRANT`, never revoked.
        case superAdministrator
        /// One of the custom administrator roles.
        case custom(CustomAdminRole)

        /// Parses `admin`, `superadmin` or a custom role's name, ignoring case.
        public init?(_ text: String) {
            let name = text.lowercased()
            if name == "admin" {
                self = .administrator
            } else if name == "superadmin" {
                self = .superAdministrator
            } else if let role = CustomAdminRole(rawValue: name) {
                self = .custom(role)
            } else {
                return nil
            }
        }

        /// The name on the wire.
        public var name: String {
            switch self {
            case .administrator: "admin"
            case .superAdministrator: "superadmin"
            case .custom(let role): role.rawValue
            }
        }
    }

    /// `ADD USER`: a user to create, with the password in clear (the server hashes it).
    public struct NewUserRequest: Hashable, Sendable {
        public var address: EmailAddress
        /// The password; without one the account can't log in until one is set.
        public var password: String?
        /// The display name; the address's local part when absent.
        public var name: String?
        public var recovery: EmailAddress?
        public var aliases: [EmailAddress]
        public var policy: String?
        /// Only check: nothing is stored or audited.
        public var dryRun: Bool

        public init(
            address: EmailAddress, password: String? = nil, name: String? = nil, recovery: EmailAddress? = nil,
            aliases: [EmailAddress] = [], policy: String? = nil, dryRun: Bool = false
        ) {
            self.address = address
            self.password = password
            self.name = name
            self.recovery = recovery
            self.aliases = aliases
            self.policy = policy
            self.dryRun = dryRun
        }
    }

    /// `ADD GROUP`: a group to create.
    public struct NewGroupRequest: Hashable, Sendable {
        public var address: EmailAddress
        /// The display name; the address's local part when absent.
        public var name: String?
        public var kind: GroupKind
        public var membersMaySendAs: Bool
        public var members: [EmailAddress]

        public init(address: EmailAddress, name: String? = nil, kind: GroupKind = .organization, membersMaySendAs: Bool = false, members: [EmailAddress] = []) {
            self.address = address
            self.name = name
            self.kind = kind
            self.membersMaySendAs = membersMaySendAs
            self.members = members
        }
    }

    /// `QUERY SEARCH`: the filter as sent and as parsed, and the page.
    public struct SearchQuery: Hashable, Sendable {
        /// The filter as the client wrote it.
        public let text: String
        /// The filter, parsed.
        public let filter: SearchFilter
        /// At most this many entries (the server's listing limit caps it).
        public var limit: Int?
        /// Skip this many matches of the stable order.
        public var offset: Int

        /// Parses `text`; throws the parser's failure.
        public init(_ text: String, limit: Int? = nil, offset: Int = 0) throws(SearchFilterParser.Failure) {
            self.text = text
            self.filter = try SearchFilterParser.parse(text)
            self.limit = limit
            self.offset = offset
        }

        public static func == (lhs: SearchQuery, rhs: SearchQuery) -> Bool {
            lhs.text == rhs.text && lhs.limit == rhs.limit && lhs.offset == rhs.offset
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(text)
            hasher.combine(limit)
            hasher.combine(offset)
        }
    }

    /// `AUDIT`: which records, newest first.
    public struct AuditQuery: Hashable, Sendable {
        public var since: Date?
        public var until: Date?
        public var actor: String?
        public var target: String?
        /// Only records after this sequence.
        public var after: UInt64?
        /// Only records before this sequence: with ``after``, the page of a range that one
        /// reply could not hold.
        public var before: UInt64?
        /// At most this many (100 by default; the server's listing limit caps it).
        public var limit: Int?

        public init(
            since: Date? = nil, until: Date? = nil, actor: String? = nil, target: String? = nil, after: UInt64? = nil, before: UInt64? = nil,
            limit: Int? = nil
        ) {
            self.since = since
            self.until = until
            self.actor = actor
            self.target = target
            self.after = after
            self.before = before
            self.limit = limit
        }
    }
}
