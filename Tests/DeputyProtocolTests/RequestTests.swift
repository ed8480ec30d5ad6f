import DeputyCore
import DeputyProtocol
import Foundation
import NIOCore
import Testing

/// Typed requests: every entry of the verb table decodes a line into its request, and a
/// request's line decodes back to the same request.
@Suite("Typed requests")
struct RequestTests {
    /// One or more lines for every entry of the table, with the request each must give.
    static let examples: [(line: String, request: Request)] = {
        let alice = EmailAddress("alice@example.org")!
        let bob = EmailAddress("bob@example.org")!
        let time = Timestamp.parse("2026-12-31T00:00:00Z")!
        return [
            ("BIND alice@example.org s3cret", .bind(login: "alice@example.org", password: "s3cret")),
            ("BIND relay", .bind(login: "relay", password: nil)),
            ("REAUTH s3cret", .reauth(password: "s3cret")),
            ("REAUTH s3cret 123456", .reauth(password: "s3cret", code: "123456")),
            ("WHOAMI", .whoami),
            ("PING", .ping),
            ("HELP", .help(topic: nil)),
            ("HELP query", .help(topic: "query")),
            ("QUIT", .quit),
            ("SNAPSHOT", .snapshot),
            (#"ADD USER Alice@example.org password=pw name="Alice L" recovery=a@home.test aliases=al@example.org policy=staff dryrun=yes"#,
             .add(.user(Request.NewUserRequest(address: alice, password: "pw", name: "Alice L", recovery: EmailAddress("a@home.test"), aliases: [EmailAddress("al@example.org")!], policy: "staff", dryRun: true)))),
            ("ADD USER Carol@example.org", .add(.user(Request.NewUserRequest(address: EmailAddress("carol@example.org")!, name: "Carol")))),
            ("ADD GROUP sales@example.org kind=personal sendas=yes members=alice@example.org,bob@example.org",
             .add(.group(Request.NewGroupRequest(address: EmailAddress("sales@example.org")!, name: "sales", kind: .personal, membersMaySendAs: true, members: [alice, bob])))),
            ("ADD SERVICE relay password=x", .add(.service(ServiceName("relay")!, password: "x"))),
            ("ADD POLICY strict delegation=off", .add(.policy(name: "strict", mailboxDelegation: false))),
            ("ADD DOMAIN example.net", .add(.domain(DomainName("example.net")!))),
            ("DELETE USER alice@example.org", .delete(.user(alice))),
            ("DELETE GROUP sales@example.org", .delete(.group(EmailAddress("sales@example.org")!))),
            ("DELETE SERVICE relay", .delete(.service(ServiceName("relay")!))),
            ("DELETE POLICY strict", .delete(.policy("strict"))),
            ("DELETE DOMAIN example.net", .delete(.domain(DomainName("example.net")!))),
            ("MODIFY USER alice@example.org name=Al recovery= addalias=a2@example.org delalias=al@example.org policy=",
             .modify(.user(alice, UserChanges(displayName: "Al", recoveryAddress: .clear, addAliases: [EmailAddress("a2@example.org")!], removeAliases: [EmailAddress("al@example.org")!], policy: .clear)))),
            ("MODIFY USER alice@example.org blocked=yes", .modify(.userBlocked(alice, true))),
            ("MODIFY GROUP sales@example.org sendas=no addmember=bob@example.org policy=staff",
             .modify(.group(EmailAddress("sales@example.org")!, GroupChanges(membersMaySendAs: false, policy: .set("staff"), addMembers: [bob])))),
            ("MODIFY ORG name=Example logo= orggroups=all personalexternal=no orgexternal=yes reserved=ceo,board",
             .modify(.organization(OrganizationChanges(name: "Example", logo: .clear, organizationGroups: .allUsers, personalGroupsAllowExternal: false, organizationGroupsAllowExternal: true, reservedLocalParts: ["ceo", "board"])))),
            ("MODIFY ORG adminfactor=yes", .modify(.organization(OrganizationChanges(requireAdministratorFactor: true)))),
            ("MODIFY ORG auditdays=365", .modify(.organization(OrganizationChanges(auditRetentionDays: 365)))),
            ("MODIFY ORG auditdays=0", .modify(.organization(OrganizationChanges(auditRetentionDays: 0)))),
            ("MFA ENROLL", .mfa(.enroll)),
            ("MFA CONFIRM 012345", .mfa(.confirm(code: "012345"))),
            ("MFA REMOVE", .mfa(.remove(login: nil))),
            ("MFA REMOVE alice@example.org", .mfa(.remove(login: alice))),
            ("MFA STATUS", .mfa(.status(login: nil))),
            ("MFA STATUS alice@example.org", .mfa(.status(login: "alice@example.org"))),
            ("MODIFY POLICY strict delegation=on", .modify(.policy(name: "strict", mailboxDelegation: true))),
            ("MODIFY SPAM blocksender=x@spam.test unblockdomain=spam.test spf=reject",
             .modify(.spam(SpamChanges(blockSenders: [EmailAddress("x@spam.test")!], unblockDomains: [DomainName("spam.test")!], spfFailure: .reject)))),
            ("PASSWD alice@example.org old=a new=b", .passwd(login: "alice@example.org", old: "a", new: "b")),
            ("GRANT helpdesk bob@example.org", .grant(.custom(.helpdesk), login: bob)),
            ("GRANT SuperAdmin bob@example.org", .grant(.superAdministrator, login: bob)),
            ("REVOKE admin bob@example.org", .revoke(.administrator, login: bob)),
            ("DELEGATE alice@example.org bob@example.org sendas,read expires=2026-12-31T00:00:00Z",
             .delegate(NewDelegation(mailbox: alice, delegate: bob, permissions: PermissionSet([.read, .sendAs]), expiresAt: time))),
            ("UNDELEGATE alice@example.org bob@example.org", .undelegate(mailbox: alice, delegate: bob)),
            ("AUDIT since=2026-12-31T00:00:00Z actor=alice@example.org target=x after=7 limit=5",
             .audit(Request.AuditQuery(since: time, actor: "alice@example.org", target: "x", after: 7, limit: 5))),
            ("QUERY SENDAS bob@example.org Alice@Example.org", .query(.sendAs(login: "bob@example.org", address: "Alice@Example.org"))),
            ("QUERY SENDONBEHALF bob@example.org alice@example.org", .query(.sendOnBehalf(login: "bob@example.org", address: "alice@example.org"))),
            ("QUERY ACCESS bob@example.org alice@example.org", .query(.access(user: "bob@example.org", mailbox: "alice@example.org"))),
            ("QUERY DELEGATES alice@example.org", .query(.delegates(mailbox: "alice@example.org"))),
            ("QUERY MAILBOXES bob@example.org", .query(.mailboxes(user: "bob@example.org"))),
            ("QUERY SENDERS alice@example.org", .query(.senders(address: "alice@example.org"))),
            ("QUERY HOLDERS sales@example.org", .query(.holders(address: "sales@example.org", permission: nil))),
            ("QUERY HOLDERS sales@example.org permission=sendonbehalf", .query(.holders(address: "sales@example.org", permission: .sendOnBehalf))),
            ("QUERY RIGHTS bob@example.org", .query(.rights(user: "bob@example.org"))),
            ("QUERY PRIVILEGES bob@example.org", .query(.privileges(user: "bob@example.org"))),
            ("QUERY MEMBERS sales@example.org", .query(.members(group: "sales@example.org"))),
            ("QUERY MEMBERS sales@example.org expand=yes", .query(.members(group: "sales@example.org", expanded: true))),
            (#"QUERY ENTRY "uid=alice,ou=users,dc=example,dc=org""#, .query(.entry("uid=alice,ou=users,dc=example,dc=org"))),
            ("QUERY DELEGATIONS offset=10", .query(.delegations(offset: 10))),
            (#"QUERY SEARCH "(mail=*@example.org)" limit=5 offset=2"#, .query(.search(try! Request.SearchQuery("(mail=*@example.org)", limit: 5, offset: 2)))),
            ("QUERY SPAM", .query(.spam)),
            ("QUERY POLICIES", .query(.policies)),
            ("QUERY ORG", .query(.organization)),
            // Any query or AUDIT, answered once the server has reached a revision.
            ("QUERY SENDAS bob@example.org alice@example.org revision=42", .atRevision(42, .query(.sendAs(login: "bob@example.org", address: "alice@example.org")))),
            ("QUERY DELEGATIONS offset=10 revision=18446744073709551615", .atRevision(UInt64.max, .query(.delegations(offset: 10)))),
            ("AUDIT limit=5 revision=0", .atRevision(0, .audit(Request.AuditQuery(limit: 5)))),
        ]
    }()

    static func decode(_ text: String) -> Result<Request, any Error> {
        Result {
            let line = try #require(try RequestParser().parse(ByteBuffer(string: text)))
            let entry = try VerbSyntax.check(line).get()
            return try entry.decode(line)
        }
    }

    @Test("every entry of the verb table has an example here")
    func everyEntryHasAnExample() throws {
        let covered = Set(try Self.examples.map { try Self.decode($0.line).get().name })
        #expect(covered == Set(VerbSyntax.entries.map(\.name)))
    }

    @Test("each line decodes to its request, named as its entry, and the request's line decodes to it again", arguments: 0..<examples.count)
    func decodesAndRoundTrips(index: Int) throws {
        let (text, expected) = Self.examples[index]
        let request = try Self.decode(text).get()
        #expect(request == expected, "\(text)")
        let line = try #require(try RequestParser().parse(ByteBuffer(string: text)))
        #expect(request.name == (try VerbSyntax.check(line).get().name))
        let wire = RequestEncoder.encode(request.line).trimmingCharacters(in: .newlines)
        #expect(try Self.decode(wire).get() == request, "\(text) -> \(wire)")
    }

    @Test("a value that is not acceptable is refused with the code and words of the reply")
    func unacceptableValues() {
        let cases: [(String, ErrorCode, String)] = [
            ("ADD USER not-an-address", .invalid, "the address is not a valid mail address"),
            ("ADD DOMAIN bad..domain", .invalid, "bad..domain is not a valid domain"),
            ("ADD SERVICE 9relay", .invalid, "a service name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter"),
            ("DELEGATE alice@example.org bob@example.org fly", .invalid, "permissions is a comma list of read, manage, sendonbehalf, sendas"),
            ("DELEGATE alice@example.org bob@example.org read expires=tomorrow", .invalid, "expires must be an RFC 3339 time such as 2026-12-01T09:00:00Z"),
            ("GRANT wizard bob@example.org", .invalid, "the role is admin, superadmin or one of usermanagement, groupmanagement, spamcontrol, helpdesk, quarantine, marketplacedeveloper"),
            ("REVOKE superadmin bob@example.org", .invalid, "the super administrator role is handed over with GRANT superadmin, never revoked"),
            ("MODIFY USER alice@example.org blocked=yes name=x", .invalid, "blocked= can't be combined with other changes in one request"),
            ("MODIFY POLICY strict", .invalid, "nothing to change"),
            ("PASSWD alice@example.org new=", .invalid, "the new password can't be empty"),
            ("ADD USER alice@example.org password=", .invalid, "the password can't be empty; leave password= out for an account that can't log in until one is set"),
            ("ADD USER alice@example.org password=\"\"", .invalid, "the password can't be empty"),
            ("ADD SERVICE relay password=", .invalid, "the password can't be empty"),
            ("QUERY SEARCH (mail=", .syntax, "filter: "),
            ("QUERY ORG revision=-1", .syntax, "revision must be a number, the revision a change was answered with"),
            ("QUERY ORG revision=18446744073709551616", .syntax, "revision must be a number"),
            ("AUDIT revision=", .syntax, "revision must be a number"),
            ("MFA CONFIRM 12345", .invalid, "the code is the 6 digits the authenticator shows"),
            ("MFA CONFIRM 12345a", .invalid, "the code is the 6 digits the authenticator shows"),
            ("MFA REMOVE nobody", .invalid, "the login is not a valid mail address"),
        ]
        for (text, code, message) in cases {
            switch Self.decode(text) {
            case .success(let request): Issue.record("\(text) decoded to \(request)")
            case .failure(let error as Request.DecodingError):
                #expect(error.code == code, "\(text)")
                #expect(error.message.hasPrefix(message), "\(text): \(error.message)")
            case .failure(let error): Issue.record("\(text): \(error)")
            }
        }
        // The grammar refuses these before any decoder: the retention is a count of days.
        for text in ["MODIFY ORG auditdays=-1", "MODIFY ORG auditdays=forever", "MODIFY ORG auditdays=1234567890"] {
            guard case .failure(let error) = Self.decode(text) else {
                Issue.record("\(text) decoded")
                continue
            }
            #expect("\(error)".contains("auditdays must be a number"), "\(text): \(error)")
        }
    }

    @Test("an OK to a change carries its revision; other statuses carry none")
    func revisionOfAReply() {
        #expect(ReplyStatus.ok(text: "user bob@example.org added (revision 42)").revision == 42)
        #expect(ReplyStatus.ok(text: "name (revision 7) changed (revision 8)").revision == 8)
        for status: ReplyStatus in [.ok(text: nil), .ok(text: "pong"), .ok(text: "x (revision )"), .ok(text: "x (revision 4x)"), .error(code: .denied, text: "no (revision 3)")] {
            #expect(status.revision == nil, "\(status)")
        }
    }

    @Test("a request's description is its name, never an argument")
    func descriptionsCarryNoSecret() {
        #expect("\(Request.bind(login: "alice@example.org", password: "s3cret"))" == "BIND")
        #expect(Request.passwd(login: "a", old: "x", new: "y").description == "PASSWD")
        #expect(Request.reauth(password: "s3cret", code: "123456").description == "REAUTH")
        #expect(Request.mfa(.confirm(code: "123456")).description == "MFA CONFIRM")
    }

    @Test("no dispatch over requests or commands falls through a default branch")
    func noDefaultOverVerbs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // The files that switch over requests, subverbs and commands.
        let files = [
            "Sources/DeputyProtocol/Request/Request.swift", "Sources/DeputyProtocol/Request/Request+Encoding.swift",
            "Sources/DeputyProtocol/Request/Request+Decoding.swift", "Sources/DeputyServer/Session/Session.swift",
            "Sources/DeputyServer/Session/Session+Changes.swift", "Sources/DeputyServer/Session/Session+Queries.swift",
            "Sources/DeputyCore/Commands/Directory+Apply.swift", "Sources/DeputyCore/Audit/CommandDescription.swift",
        ]
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.trimmingCharacters(in: .whitespaces).hasPrefix("default:") {
                Issue.record("\(file):\(number + 1) has a default branch: \(line)")
            }
        }
    }
}
