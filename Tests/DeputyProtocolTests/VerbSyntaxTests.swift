import DeputyProtocol
import Testing

/// One valid request line for a table entry.
struct VerbFixture: Sendable, CustomTestStringConvertible {
    let entry: String
    let line: String

    init(_ entry: String, _ line: String) {
        self.entry = entry
        self.line = line
    }

    var testDescription: String {
        self.entry
    }

    static let all: [VerbFixture] = [
        // Session
        VerbFixture("BIND", #"BIND alice@example.org "correct horse""#),
        VerbFixture("REAUTH", "reauth s3cret"),
        VerbFixture("WHOAMI", "WHOAMI"),
        VerbFixture("PING", "ping"),
        VerbFixture("HELP", "HELP add"),
        VerbFixture("QUIT", "QUIT"),
        // Directory
        VerbFixture(
            "ADD USER",
            #"ADD USER alice@example.org password="pa ss" name="Alice Liddell" recovery=alice@home.example aliases=al@example.org,a.l@example.org policy=staff"#
        ),
        VerbFixture(
            "ADD GROUP",
            "add group team@example.org name=Team kind=organization sendas=yes members=a@example.org,b@example.org"
        ),
        VerbFixture("ADD SERVICE", "ADD SERVICE backup password=x"),
        VerbFixture("ADD POLICY", "ADD POLICY strict delegation=off"),
        VerbFixture("ADD DOMAIN", "ADD DOMAIN example.net"),
        VerbFixture("DELETE USER", "DELETE USER alice@example.org"),
        VerbFixture("DELETE GROUP", "DELETE group team@example.org"),
        VerbFixture("DELETE SERVICE", "DELETE SERVICE backup"),
        VerbFixture("DELETE POLICY", "DELETE POLICY strict"),
        VerbFixture("DELETE DOMAIN", "DELETE DOMAIN example.net"),
        VerbFixture(
            "MODIFY USER",
            #"MODIFY USER alice@example.org name="Alice L" recovery= addalias=x@example.org delalias=y@example.org policy=p blocked=no"#
        ),
        VerbFixture(
            "MODIFY GROUP",
            "MODIFY GROUP team@example.org name=Team sendas=no addmember=c@example.org delmember=a@example.org policy=p"
        ),
        VerbFixture(
            "MODIFY ORG",
            #"MODIFY ORG name="Example Org" logo=https://example.org/logo.png defaultpolicy=std orggroups=admins personalgroups=all personalexternal=no"#
        ),
        VerbFixture("MODIFY POLICY", "MODIFY POLICY strict delegation=on"),
        VerbFixture(
            "MODIFY SPAM",
            "MODIFY SPAM allowsender=a@x.org blocksender=b@y.org allowdomain=x.org blockdomain=y.org unallowsender=c@x.org unblocksender=d@y.org unallowdomain=z.org unblockdomain=w.org spf=strict dkim=on dmarc=quarantine dnsbl=zen.example"
        ),
        VerbFixture("PASSWD", "PASSWD alice old=a new=b"),
        VerbFixture("GRANT", "GRANT admin bob@example.org"),
        VerbFixture("REVOKE", "REVOKE helpdesk bob@example.org"),
        VerbFixture("DELEGATE", "DELEGATE boss@example.org pa@example.org read,sendonbehalf expires=2026-12-31T23:59:59Z"),
        VerbFixture("UNDELEGATE", "UNDELEGATE boss@example.org pa@example.org"),
        VerbFixture(
            "AUDIT",
            "AUDIT since=2026-01-01T00:00:00Z until=2026-02-01T00:00:00+01:00 actor=alice target=bob limit=100"
        ),
        VerbFixture("SNAPSHOT", "SNAPSHOT"),
        // Second factor
        VerbFixture("MFA ENROLL", "mfa enroll"),
        VerbFixture("MFA CONFIRM", "MFA CONFIRM 123456"),
        VerbFixture("MFA REMOVE", "MFA REMOVE alice@example.org"),
        VerbFixture("MFA STATUS", "MFA STATUS"),
        // Queries
        VerbFixture("QUERY SENDAS", "QUERY SENDAS alice info@example.org"),
        VerbFixture("QUERY SENDONBEHALF", "QUERY SENDONBEHALF alice boss@example.org"),
        VerbFixture("QUERY ACCESS", "QUERY ACCESS alice boss@example.org"),
        VerbFixture("QUERY DELEGATES", "QUERY DELEGATES boss@example.org"),
        VerbFixture("QUERY MAILBOXES", "QUERY MAILBOXES alice"),
        VerbFixture("QUERY SENDERS", "QUERY SENDERS info@example.org"),
        VerbFixture("QUERY HOLDERS", "QUERY HOLDERS sales@example.org permission=sendas"),
        VerbFixture("QUERY RIGHTS", "QUERY RIGHTS alice"),
        VerbFixture("QUERY PRIVILEGES", "QUERY PRIVILEGES alice"),
        VerbFixture("QUERY MEMBERS", "QUERY MEMBERS team@example.org"),
        VerbFixture("QUERY ENTRY", #"QUERY ENTRY "uid=alice,ou=people,dc=example,dc=org""#),
        VerbFixture("QUERY DELEGATIONS", "QUERY DELEGATIONS"),
        VerbFixture("QUERY SEARCH", #"query search "(&(mail=*@example.org)(cn=A*))" limit=50"#),
        VerbFixture("QUERY SPAM", "QUERY SPAM"),
        VerbFixture("QUERY ORG", "QUERY ORG"),
        VerbFixture("QUERY POLICIES", "QUERY POLICIES"),
    ]
}

@Suite("Verb syntax")
struct VerbSyntaxTests {
    // MARK: - Fixtures

    @Test("a valid line for every entry parses and passes the check", arguments: VerbFixture.all)
    func fixture(_ fixture: VerbFixture) throws {
        let request = try #require(try RequestParser.parse(fixture.line))
        let entry = try VerbSyntax.check(request).get()
        #expect(entry.name == fixture.entry)
        // The same request survives encoding, so clients can send exactly what servers accept.
        #expect(try RequestParser.parse(RequestEncoder.encode(request)) == request)
    }

    @Test("the fixtures cover every entry of the table exactly once")
    func fixturesCoverTable() {
        let fixtureNames = VerbFixture.all.map(\.entry)
        let tableNames = VerbSyntax.entries.map(\.name)
        #expect(Set(fixtureNames).count == fixtureNames.count)
        #expect(Set(tableNames).count == tableNames.count)
        #expect(Set(fixtureNames) == Set(tableNames))
        #expect(tableNames.count == 48)
    }

    // MARK: - Table

    @Test("only BIND, PING, HELP and QUIT are allowed before authentication")
    func preauthentication() {
        let allowed = VerbSyntax.entries.filter(\.allowedBeforeAuthentication).map(\.name)
        #expect(Set(allowed) == ["BIND", "PING", "HELP", "QUIT"])
    }

    @Test("entries of a verb are adjacent and either all or none have a subverb")
    func tableShape() {
        var finished = Set<String>()
        var previous: String? = nil
        for entry in VerbSyntax.entries {
            if entry.verb != previous {
                #expect(!finished.contains(entry.verb), "\(entry.verb) entries are not adjacent")
                if let previous { finished.insert(previous) }
                previous = entry.verb
            }
            let siblings = VerbSyntax.entries(for: entry.verb)
            #expect(siblings.allSatisfy { ($0.subverb == nil) == (entry.subverb == nil) })
            if entry.subverb == nil { #expect(siblings.count == 1) }
        }
        #expect(VerbSyntax.verbs.count == 18)
    }

    @Test("synopses are generated from the entry parts")
    func synopses() throws {
        #expect(VerbSyntax.entry(verb: "BIND")?.synopsis == "BIND <login> [password]")
        #expect(VerbSyntax.entry(verb: "HELP")?.synopsis == "HELP [verb]")
        #expect(VerbSyntax.entry(verb: "PASSWD")?.synopsis == "PASSWD <login> [old=<pw>] new=<pw>")
        #expect(
            VerbSyntax.entry(verb: "add", subverb: "group")?.synopsis
                == "ADD GROUP <address> [name=<display name>] [kind=organization|personal] [sendas=yes|no] [members=<a,b>]"
        )
        #expect(VerbSyntax.entry(verb: "QUERY", subverb: "SEARCH")?.synopsis == "QUERY SEARCH <filter> [limit=<n>] [offset=<n>] [revision=<n>]")
        let grant = try #require(VerbSyntax.entry(verb: "GRANT"))
        #expect(grant.minimumPositionals == 2)
        #expect(grant.maximumPositionals == 2)
        #expect(grant.allowedKeys.isEmpty)
        let passwd = try #require(VerbSyntax.entry(verb: "PASSWD"))
        #expect(passwd.allowedKeys == ["old", "new"])
        #expect(passwd.requiredKeys == ["new"])
    }

    @Test("operands skip the subverb keyword")
    func operands() throws {
        let request = try #require(try RequestParser.parse("QUERY sendas alice info@example.org"))
        let entry = try VerbSyntax.check(request).get()
        #expect(entry.subverb == "SENDAS")
        #expect(entry.operands(of: request) == ["alice", "info@example.org"])
        let bind = try #require(try RequestParser.parse("BIND alice pw"))
        #expect(try VerbSyntax.check(bind).get().operands(of: bind) == ["alice", "pw"])
    }

    // MARK: - Help

    @Test("HELP lists every entry, or the entries of one verb")
    func help() throws {
        #expect(VerbSyntax.help(topic: nil)?.count == VerbSyntax.entries.count)
        #expect(VerbSyntax.help(topic: "delete")?.map(\.name) == [
            "DELETE USER", "DELETE GROUP", "DELETE SERVICE", "DELETE POLICY", "DELETE DOMAIN",
        ])
        #expect(VerbSyntax.help(topic: "FROB") == nil)

        let record = try #require(VerbSyntax.entry(verb: "ADD", subverb: "DOMAIN")).helpRecord
        #expect(record.fields.map(\.key) == ["verb", "subverb", "synopsis", "summary", "preauth"])
        #expect(record["synopsis"] == "ADD DOMAIN <domain>")
        #expect(record["preauth"] == "no")
        #expect(try #require(VerbSyntax.entry(verb: "PING")).helpRecord["subverb"] == nil)
        #expect(try #require(VerbSyntax.entry(verb: "PING")).helpRecord["preauth"] == "yes")
    }

    // MARK: - Failures

    @Test("an unknown verb maps to the unknown code and is named")
    func unknownVerb() throws {
        let error = try #require(try checkError("FROBNICATE a b"))
        #expect(error.kind == .unknownVerb)
        #expect(error.errorCode == .unknown)
        #expect(error.message == "unknown verb FROBNICATE")
    }

    @Test("an unknown subverb maps to the unknown code")
    func unknownSubverb() throws {
        let error = try #require(try checkError("ADD MAILBOX a@example.org"))
        #expect(error.kind == .unknownSubverb)
        #expect(error.errorCode == .unknown)
        #expect(error.message == "unknown ADD subverb MAILBOX")
        // A subverb that could carry anything is not echoed.
        let quoted = try #require(try checkError(#"QUERY "secret value""#))
        #expect(quoted.kind == .unknownSubverb)
        #expect(!quoted.message.contains("secret"))
    }

    @Test("a verb that needs a subverb lists the choices")
    func missingSubverb() throws {
        let error = try #require(try checkError("DELETE"))
        #expect(error.kind == .missingSubverb)
        #expect(error.errorCode == .syntax)
        #expect(error.message == "DELETE needs one of USER, GROUP, SERVICE, POLICY, DOMAIN")
        #expect(try checkError("MODIFY name=x")?.kind == .missingSubverb)
    }

    @Test("wrong arity is a syntax error that shows the synopsis", arguments: [
        "BIND", "BIND alice pw extra", "PING now", "HELP ADD USER", "ADD USER", "ADD USER a b",
        "MODIFY ORG x", "QUERY SENDAS alice", "DELEGATE a b", "QUERY DELEGATIONS x", "REAUTH", "REAUTH pw 123456 extra",
        "MFA CONFIRM", "MFA STATUS a b",
    ])
    func wrongArity(line: String) throws {
        let error = try #require(try checkError(line))
        #expect(error.kind == .wrongArity)
        #expect(error.errorCode == .syntax)
        let request = try #require(try RequestParser.parse(line))
        #expect(error.message.hasPrefix("wrong number of arguments; usage: \(request.verb)"))
        #expect(VerbSyntax.entries.contains { error.message.hasSuffix("usage: " + $0.synopsis) })
    }

    @Test("a named key the entry does not allow is named in the error")
    func disallowedKey() throws {
        let error = try #require(try checkError("ADD DOMAIN example.net policy=x"))
        #expect(error.kind == .disallowedKey)
        #expect(error.errorCode == .syntax)
        #expect(error.message == "named argument policy is not allowed; usage: ADD DOMAIN <domain>")
        #expect(try checkError("BIND alice pw pass=word")?.kind == .disallowedKey)
        // Where the line may carry a password, nothing of it is quoted: an unquoted password
        // with '=' in it reads as a named argument.
        for line in ["BIND admin@example.test Tr0ub4dor=3", "PASSWD bob@example.test new=correct Horse=battery", "ADD USER u@example.test password=a Second=half"] {
            let error = try #require(try checkError(line))
            #expect(error.kind == .disallowedKey)
            #expect(error.message.hasPrefix("a named argument is not allowed here (quote a password that holds '='); usage: "), "\(error.message)")
            #expect(!["tr0ub4dor", "horse", "second"].contains { error.message.contains($0) }, "\(error.message)")
        }
        #expect(try checkError("MODIFY GROUP g blocked=yes")?.kind == .disallowedKey)
    }

    @Test("enumerated and numeric values are checked")
    func invalidValues() throws {
        let error = try #require(try checkError("ADD GROUP g@example.org kind=team"))
        #expect(error.kind == .invalidValue)
        #expect(error.message.hasPrefix("kind must be one of organization, personal; usage: ADD GROUP"))
        #expect(try checkError("MODIFY USER u blocked=YES")?.kind == .invalidValue)
        #expect(try checkError("MODIFY ORG orggroups=everyone")?.kind == .invalidValue)
        #expect(try checkError("AUDIT limit=ten")?.kind == .invalidValue)
        #expect(try checkError("AUDIT limit=")?.kind == .invalidValue)
        #expect(try checkError("QUERY SEARCH x limit=1234567890")?.kind == .invalidValue)
        #expect(try checkError("QUERY SEARCH x limit=123456789") == nil)
    }

    @Test("a required named argument must be present")
    func missingRequiredKey() throws {
        let error = try #require(try checkError("PASSWD alice old=a"))
        #expect(error.kind == .missingRequiredKey)
        #expect(error.message == "missing named argument new; usage: PASSWD <login> [old=<pw>] new=<pw>")
        #expect(try checkError("PASSWD alice new=") == nil)
    }

    @Test("a wrong arity is reported before a disallowed key")
    func checkOrder() throws {
        #expect(try checkError("BIND x=y")?.kind == .wrongArity)
    }
}

/// A connection's own copies of the entries it used (``VerbSyntax/RecentEntries``) answer
/// as the shared table does.
@Suite("Recent verb entries")
struct RecentEntriesTests {
    /// What a check says about `line`: the entry's name and decoded request, or the error.
    static func outcome(_ line: String, recent: inout VerbSyntax.RecentEntries) throws -> String {
        guard let request = try RequestParser.parse(line) else { return "empty" }
        switch VerbSyntax.check(request, recent: &recent) {
        case .success(let entry):
            let decoded = (try? entry.decode(request)).map { "\($0)" } ?? "undecodable"
            return "\(entry.name) \(entry.synopsis) \(decoded)"
        case .failure(let error):
            return "error \(error.message)"
        }
    }

    @Test("every line, valid or not, in any case and in any order, gets the table's answer from a connection's copies")
    func sameAnswers() throws {
        let wrong = [
            "QUERY", "QUERY NOSUCH a@b", "query sendas a@example.org", "QUERY SENDAS a@example.org b@example.org extra",
            "QUERY DELEGATES a@example.org revision=x", "query delegates A@example.org revision=12", "FROB", "ADD",
            "QUERY SENDAS a@example.org b@example.org colour=red", "ping extra",
        ]
        let lines = VerbFixture.all.map(\.line) + VerbFixture.all.map { $0.line.lowercased() } + wrong
        // A small capacity, so that entries are dropped and found again.
        var recent = VerbSyntax.RecentEntries(capacity: 3)
        for round in 0..<2 {
            for line in round == 0 ? lines : lines.reversed() {
                var none = VerbSyntax.RecentEntries(capacity: 0)
                let expected = try Self.outcome(line, recent: &none)
                #expect(try Self.outcome(line, recent: &recent) == expected, "\(line)")
                #expect(try Self.outcome(line, recent: &recent) == expected, "again: \(line)")
            }
        }
    }
}
