import DeputyServer
import Foundation
import Synchronization
import Testing

/// `deputy export` end to end: the real binary against a real daemon over TLS, and, with
/// `--from`, the LDIF writer on inputs the server never sends.
@Suite("deputy export")
struct ExportCLITests {
    /// The display name with non-ASCII text, a leading space and a colon.
    static let awkwardName = " Zoë: the boss"
    /// A name longer than an LDIF line.
    static let longName = String(repeating: "Sales and marketing ", count: 10) + "team"

    /// A directory with users, groups, a service account, a delegation, a policy and spam
    /// settings, set up over the protocol.
    static func populate(_ server: TestServer) async throws {
        let admin = try await server.boundClient()
        for line in [
            #"ADD USER alice@example.test password=alice-pw name="Alice Liddell" aliases=al@example.test"#,
            "ADD USER bob@example.test password=bob-pw",
            #"ADD USER zoe@example.test password=zoe-pw name="\#(awkwardName)" recovery=zoe@home.test"#,
            #"ADD USER colon@example.test name=":first""#,
            #"ADD USER angle@example.test name="<angle>""#,
            #"ADD USER trailing@example.test name="trailing ""#,
            #"ADD USER inner@example.test name="Dr: Who <x>""#,
            #"ADD GROUP sales@example.test name="\#(longName)" members=bob@example.test,alice@example.test sendas=yes"#,
            "ADD GROUP empty@example.test",
            "ADD SERVICE postfix password=postfix-pw",
            "ADD POLICY restricted delegation=off",
            "MODIFY USER zoe@example.test policy=restricted",
            "DELEGATE alice@example.test bob@example.test read,sendas expires=2026-12-31T00:00:00Z",
            "MODIFY SPAM blocksender=spammer@bad.test blockdomain=bad.test spf=reject",
        ] {
            #expect(try await admin.send(line).last?.hasPrefix("OK") == true, "\(line)")
        }
        await admin.close()
    }

    @Test("JSON holds organisation, entries, delegations, policies and spam; LDIF the same entries, base64 only where it must")
    func jsonAndLDIF() async throws {
        let cli = try await CLIHarness.start()
        try await Self.populate(cli.server)

        let json = try await cli.run(["export"])
        #expect(json.status == 0, "\(json.error)")
        #expect(json.error == "exported 12 entries, 1 delegation, 2 policies\n")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(Set(document.keys) == ["organization", "entries", "delegations", "policies", "spam"])
        // Pretty-printed with sorted keys: one key a line, in order.
        let topKeys = json.output.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(topKeys == ["delegations", "entries", "organization", "policies", "spam"])

        let organization = try #require(document["organization"] as? [String: Any])
        #expect(organization["dn"] as? String == "dc=example,dc=test")
        #expect(organization["domain"] as? String == "example.test")
        let entries = try #require(document["entries"] as? [[String: Any]])
        let dns = entries.compactMap { $0["dn"] as? String }
        #expect(dns.count == 12)
        #expect(Set(dns).count == 12)
        #expect(dns.first == "dc=example,dc=test")
        #expect(Set(dns) == Set([
            "dc=example,dc=test", "uid=admin,ou=users,dc=example,dc=test", "uid=alice,ou=users,dc=example,dc=test",
            "uid=bob,ou=users,dc=example,dc=test", "uid=zoe,ou=users,dc=example,dc=test", "uid=colon,ou=users,dc=example,dc=test",
            "uid=angle,ou=users,dc=example,dc=test", "uid=trailing,ou=users,dc=example,dc=test", "uid=inner,ou=users,dc=example,dc=test",
            "cn=sales,ou=groups,dc=example,dc=test", "cn=empty,ou=groups,dc=example,dc=test", "uid=postfix,ou=services,dc=example,dc=test",
        ]))
        func entry(_ dn: String) -> [String: Any]? { entries.first { $0["dn"] as? String == dn } }
        let zoe = try #require(entry("uid=zoe,ou=users,dc=example,dc=test"))
        #expect(zoe["displayname"] as? String == Self.awkwardName)
        #expect(zoe["objectclass"] as? [String] == ["top", "person", "inetorgperson", "deputyuser"])
        // Private attributes: the export is an administrator's.
        #expect(zoe["recoveryaddress"] as? String == "zoe@home.test")
        #expect(zoe["policy"] as? String == "restricted")
        #expect(entry("uid=alice,ou=users,dc=example,dc=test")?["mailalternateaddress"] as? String == "al@example.test")
        #expect(entry("cn=sales,ou=groups,dc=example,dc=test")?["member"] as? [String] == ["alice@example.test", "bob@example.test"])
        #expect(entry("uid=postfix,ou=services,dc=example,dc=test")?["objectclass"] as? [String] == ["top", "deputyservice"])

        let delegations = try #require(document["delegations"] as? [[String: Any]])
        #expect(delegations.count == 1)
        #expect(delegations.first?["mailbox"] as? String == "alice@example.test")
        #expect(delegations.first?["delegate"] as? String == "bob@example.test")
        #expect(delegations.first?["permissions"] as? [String] == ["read", "sendas"])
        #expect(delegations.first?["expires"] as? String == "2026-12-31T00:00:00Z")
        let policies = try #require(document["policies"] as? [[String: String]])
        #expect(policies == [["policy": "default", "delegation": "on", "default": "yes"], ["policy": "restricted", "delegation": "off", "default": "no"]])
        let spam = try #require(document["spam"] as? [String: Any])
        #expect(spam["blocksenders"] as? [String] == ["spammer@bad.test"])
        #expect(spam["blockdomains"] as? [String] == ["bad.test"])
        #expect(spam["allowsenders"] as? [String] == [])
        #expect(spam["spf"] as? String == "reject")

        let ldif = try await cli.run(["export", "--format", "ldif"])
        #expect(ldif.status == 0, "\(ldif.error)")
        #expect(ldif.error == "exported 12 entries\n")
        #expect(ldif.output.hasPrefix("version: 1\n\ndn: dc=example,dc=test\nobjectclass: top\n"))
        let lines = ldif.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 && $0.utf8.allSatisfy { $0 < 0x80 } })
        // Exactly the awkward values are base64, and they decode to what was stored.
        let records = try LDIFReader.records(ldif.output)
        let encoded = records.flatMap { record in record.attributes.filter(\.base64).map { "\(record.dn) \($0.name)" } }
        #expect(Set(encoded) == [
            "uid=zoe,ou=users,dc=example,dc=test cn", "uid=zoe,ou=users,dc=example,dc=test displayname",
            "uid=colon,ou=users,dc=example,dc=test cn", "uid=colon,ou=users,dc=example,dc=test displayname",
            "uid=angle,ou=users,dc=example,dc=test cn", "uid=angle,ou=users,dc=example,dc=test displayname",
            "uid=trailing,ou=users,dc=example,dc=test cn", "uid=trailing,ou=users,dc=example,dc=test displayname",
        ])
        #expect(ldif.output.contains("\ndisplayname:: IFpvw6s6IHRoZSBib3Nz\n"))
        #expect(ldif.output.contains("\ncn:: OmZpcnN0\n"))
        #expect(ldif.output.contains("\ncn:: PGFuZ2xlPg==\n"))
        #expect(ldif.output.contains("\ncn:: dHJhaWxpbmcg\n"))
        #expect(ldif.output.contains("\ncn: Dr: Who <x>\n"))
        func value(_ dn: String, _ name: String) -> [String] {
            records.first { $0.dn == dn }?.attributes.filter { $0.name == name }.map(\.value) ?? []
        }
        #expect(value("uid=zoe,ou=users,dc=example,dc=test", "displayname") == [Self.awkwardName])
        #expect(value("uid=colon,ou=users,dc=example,dc=test", "cn") == [":first"])
        #expect(value("uid=trailing,ou=users,dc=example,dc=test", "cn") == ["trailing "])
        // The group's long name is folded, and unfolds to itself.
        #expect(value("cn=sales,ou=groups,dc=example,dc=test", "name") == [Self.longName])
        #expect(lines.contains { $0.hasPrefix("name: Sales and marketing") && $0.utf8.count == 76 })
        // Every entry of the JSON export, attribute for attribute.
        #expect(records.map(\.dn) == dns)
        for (record, object) in zip(records, entries) {
            var fromJSON: [String: [String]] = [:]
            for (key, value) in object where key != "dn" { fromJSON[key] = (value as? [String]) ?? [value as? String ?? "?"] }
            #expect(Dictionary(grouping: record.attributes, by: \.name).mapValues { $0.map(\.value) } == fromJSON, "\(record.dn)")
        }
        // LDIF carries entries only.
        #expect(!ldif.output.contains("spammer@bad.test"))
        #expect(!ldif.output.contains("granted-by"))

        // Nothing secret in either.
        for output in [json.output, ldif.output] {
            for secret in ["alice-pw", "bob-pw", "zoe-pw", "postfix-pw", TestServer.adminPassword, "pbkdf2", "password", "hash"] {
                #expect(!output.lowercased().contains(secret), "\(secret)")
            }
        }
        try await cli.stop()
    }

    @Test("pages past a small listing limit: every entry and delegation exactly once")
    func paging() async throws {
        var limits = ServerLimits()
        limits.maximumListing = 4
        let cli = try await CLIHarness.start(limits: limits)
        let admin = try await cli.server.boundClient()
        let users = (1...22).map { "user\($0)@example.test" }
        for user in users {
            #expect(try await admin.send("ADD USER \(user)").last?.hasPrefix("OK") == true)
        }
        for group in 1...3 {
            #expect(try await admin.send("ADD GROUP group\(group)@example.test members=\(users[group])").last?.hasPrefix("OK") == true)
        }
        for delegate in users.dropFirst().prefix(9) {
            #expect(try await admin.send("DELEGATE \(users[0]) \(delegate) read").last?.hasPrefix("OK") == true)
        }
        // The server itself cuts the lists.
        #expect(try await admin.send("QUERY DELEGATIONS").last == "OK 4 of 9 delegations, truncated at the limit")
        #expect(try await admin.send("QUERY SEARCH \"(objectclass=*)\"").last == "OK 4 entries, truncated at the limit")
        await admin.close()

        let json = try await cli.run(["export"])
        #expect(json.status == 0, "\(json.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let dns = (document["entries"] as? [[String: Any]] ?? []).compactMap { $0["dn"] as? String }
        let expected = ["dc=example,dc=test", "uid=admin,ou=users,dc=example,dc=test"]
            + users.map { "uid=\($0.prefix { $0 != "@" }),ou=users,dc=example,dc=test" }
            + (1...3).map { "cn=group\($0),ou=groups,dc=example,dc=test" }
        #expect(dns.count == expected.count)
        #expect(Set(dns) == Set(expected))
        let delegates = (document["delegations"] as? [[String: Any]] ?? []).compactMap { $0["delegate"] as? String }
        #expect(delegates == Array(users.dropFirst().prefix(9)))

        let ldif = try await cli.run(["export", "--format", "ldif"])
        #expect(ldif.status == 0, "\(ldif.error)")
        #expect(try LDIFReader.records(ldif.output).map(\.dn) == dns)
        try await cli.stop()
    }

    @Test("a listing that shifts between two pages is read again; one that keeps shifting fails")
    func shiftingPages() async throws {
        var limits = ServerLimits()
        limits.maximumListing = 4
        let cli = try await CLIHarness.start(limits: limits)
        let admin = try await cli.server.boundClient()
        let users = (1...10).map { "user\($0)@example.test" }
        for user in users {
            #expect(try await admin.send("ADD USER \(user)").last?.hasPrefix("OK") == true)
        }
        // Before a page after the first, a proxy deletes the earliest user left: everything
        // after it moves one place forward, under the export's feet.
        let interference = Interference()
        let proxy = try await InterceptingProxy.start(upstreamPort: cli.server.plainPort) { line in
            guard line.hasPrefix("QUERY SEARCH "), line.contains("offset="), let victim = interference.next(users) else { return }
            let reply = try await admin.send("DELETE USER \(victim)")
            #expect(reply.count == 1 && reply[0].hasPrefix("OK user \(victim) deleted (revision "), "\(reply)")
        }
        let flags = ["--server", "deputy+plain://127.0.0.1:\(proxy.port)", "--user", "admin@example.test"]
        func expected(without deleted: [String]) -> [String] {
            ["dc=example,dc=test", "uid=admin,ou=users,dc=example,dc=test"]
                + users.filter { !deleted.contains($0) }.map { "uid=\($0.prefix { $0 != "@" }),ou=users,dc=example,dc=test" }
        }

        // Once: the second page does not start where the first ended, so the listing is read again.
        interference.allow(1)
        let once = try await cli.run(["export"] + flags, connection: false)
        #expect(once.status == 0, "\(once.error)")
        #expect(interference.deleted == [users[0]])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(once.output.utf8)) as? [String: Any])
        let dns = (document["entries"] as? [[String: Any]] ?? []).compactMap { $0["dn"] as? String }
        #expect(dns.count == Set(dns).count)
        #expect(Set(dns) == Set(expected(without: [users[0]])))

        // On every attempt: the export gives up rather than write a listing with holes.
        // deputy export reads a shifting listing three times.
        interference.allow(3)
        let always = try await cli.run(["export", "--format", "ldif"] + flags, connection: false)
        #expect(always.status == 2)
        #expect(always.output.isEmpty)
        #expect(always.error == "deputy: QUERY SEARCH: the directory kept changing between pages; try again\n")
        #expect(interference.deleted == Array(users.prefix(4)))
        try await proxy.stop()
        await admin.close()
        try await cli.stop()
    }

    @Test("a user or a service account is refused before anything is written")
    func notAnAdministrator() async throws {
        let cli = try await CLIHarness.start()
        let admin = try await cli.server.boundClient()
        #expect(try await admin.send("ADD USER dave@example.test password=dave-pw").last?.hasPrefix("OK") == true)
        #expect(try await admin.send("GRANT helpdesk dave@example.test").last?.hasPrefix("OK") == true)
        #expect(try await admin.send("ADD SERVICE postfix password=postfix-pw").last?.hasPrefix("OK") == true)
        await admin.close()
        let target = cli.home.appendingPathComponent("refused.json").path
        let base = ["export", "--server", cli.serverAddress, "--ca", cli.caFile, "--to", target]
        let user = try await cli.run(base + ["--user", "dave@example.test"], connection: false, password: "dave-pw")
        #expect(user.status == 2)
        #expect(user.output.isEmpty)
        #expect(user.error == "deputy: export reads the whole directory and needs an administrator; dave@example.test has the role user\n")
        let service = try await cli.run(base + ["--user", "postfix", "--format", "ldif"], connection: false, password: "postfix-pw")
        #expect(service.status == 2)
        #expect(service.output.isEmpty)
        #expect(service.error == "deputy: export reads the whole directory and needs an administrator; postfix is a service account\n")
        #expect(!FileManager.default.fileExists(atPath: target))
        try await cli.stop()
    }

    @Test("--to writes a 0600 file by rename, replacing an older one, and leaves nothing else")
    func toFile() async throws {
        let cli = try await CLIHarness.start()
        let directory = cli.home.appendingPathComponent("exports")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent("directory.json").path
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)

        let json = try await cli.run(["export", "--to", target])
        #expect(json.status == 0, "\(json.error)")
        #expect(json.output.isEmpty)
        #expect(json.error == "exported 2 entries, 0 delegations, 1 policy to \(target)\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let written = try Data(contentsOf: URL(fileURLWithPath: target))
        let document = try #require(try JSONSerialization.jsonObject(with: written) as? [String: Any])
        #expect((document["entries"] as? [Any])?.count == 2)
        // The same bytes as standard output gets.
        #expect(String(decoding: written, as: UTF8.self) == (try await cli.run(["export"])).output)

        let ldifTarget = directory.appendingPathComponent("directory.ldif").path
        let ldif = try await cli.run(["export", "--format", "ldif", "--to", ldifTarget])
        #expect(ldif.status == 0, "\(ldif.error)")
        #expect(((try FileManager.default.attributesOfItem(atPath: ldifTarget))[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: ldifTarget, encoding: .utf8).hasPrefix("version: 1\n\ndn: dc=example,dc=test\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["directory.json", "directory.ldif"])

        let nowhere = cli.home.appendingPathComponent("missing/directory.json").path
        let failed = try await cli.run(["export", "--to", nowhere])
        #expect(failed.status == 78)
        #expect(failed.error.hasPrefix("deputy: cannot write \(nowhere): creating "))
        #expect(failed.output.isEmpty)
        try await cli.stop()
    }

    // MARK: - The LDIF writer, through --from

    /// A JSON export holding every kind of value the LDIF rules distinguish.
    static let crafted = """
        {
          "organization": { "dn": "dc=example,dc=test", "o": "example", "secret": "s3" },
          "entries": [
            { "dn": "dc=example,dc=test", "objectclass": ["top", "organization"], "o": "example", "userPassword": "{SSHA}abc" },
            { "dn": "uid=bücher,ou=users,dc=example,dc=test", "objectclass": "top",
              "a": "", "b": "plain", "c": " lead", "d": ":colon", "e": "<angle", "f": "trail ",
              "g": "inner: colon, and < too", "h": "é", "i": ["line\\nbreak", "cr\\rx", "nul\\u0000x"],
              "j": "\(String(repeating: "x", count: 73))", "k": "\(String(repeating: "y", count: 74))",
              "l": "\(String(repeating: "0123456789", count: 20))", "m": "\(String(repeating: "Ünïcödé ", count: 12))",
              "passwordhash": "pbkdf2-sha256$1000$abc" }
          ],
          "delegations": [ { "id": "1", "permissions": ["read"], "password": "nope" } ],
          "policies": [ { "policy": "default", "delegation": "on", "default": "yes" } ],
          "spam": { "spf": "reject", "allowsenders": [] }
        }
        """

    @Test("LDIF from an earlier JSON export: SAFE-STRING rules, base64, folding at 76, no secrets")
    func ldifWriterRules() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let source = home.appendingPathComponent("earlier.json").path
        try Self.crafted.write(toFile: source, atomically: true, encoding: .utf8)
        let environment = ["HOME": home.path, "PATH": "/usr/bin:/bin"]

        let result = try await ProcessRunner.run(CLIHarness.binary, ["export", "--from", source, "--format", "ldif"], environment: environment, replaceEnvironment: true)
        #expect(result.status == 0, "\(result.error)")
        let l = String(repeating: "0123456789", count: 20)
        let m = "w5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kg"
        let expected = """
            version: 1

            dn: dc=example,dc=test
            objectclass: top
            objectclass: organization
            o: example

            dn:: dWlkPWLDvGNoZXIsb3U9dXNlcnMsZGM9ZXhhbXBsZSxkYz10ZXN0
            objectclass: top
            a:
            b: plain
            c:: IGxlYWQ=
            d:: OmNvbG9u
            e:: PGFuZ2xl
            f:: dHJhaWwg
            g: inner: colon, and < too
            h:: w6k=
            i:: bGluZQpicmVhaw==
            i:: Y3INeA==
            i:: bnVsAHg=
            j: \(String(repeating: "x", count: 73))
            k: \(String(repeating: "y", count: 73))
             y
            l: \(l.prefix(73))
             \(l.dropFirst(73).prefix(75))
             \(l.dropFirst(148))
            m:: \(m.prefix(72))
             \(m.dropFirst(72).prefix(75))
             \(m.dropFirst(147))

            """
        #expect(result.output == expected)
        #expect(result.error == "exported 2 entries\n")
        // The folded and encoded values read back as they were written.
        let records = try LDIFReader.records(result.output)
        #expect(records.map(\.dn) == ["dc=example,dc=test", "uid=bücher,ou=users,dc=example,dc=test"])
        let values = Dictionary(grouping: records[1].attributes, by: \.name).mapValues { $0.map(\.value) }
        #expect(values["i"] == ["line\nbreak", "cr\rx", "nul\u{0}x"])
        #expect(values["l"] == [l])
        #expect(values["m"] == [String(repeating: "Ünïcödé ", count: 12)])
        #expect(values["c"] == [" lead"])
        #expect(values["a"] == [""])

        // The JSON form of the same file drops the secret fields too.
        let json = try await ProcessRunner.run(CLIHarness.binary, ["export", "--from", source], environment: environment, replaceEnvironment: true)
        #expect(json.status == 0, "\(json.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect((document["entries"] as? [[String: Any]])?.first?["o"] as? String == "example")
        for secret in ["userPassword", "passwordhash", "\"password\"", "\"secret\"", "SSHA", "pbkdf2", "nope", "s3"] {
            #expect(!json.output.contains(secret), "\(secret)")
        }

        // What LDIF can't carry is refused, not mangled.
        for (bad, message) in [
            (#"{"dn": "uid=x", "bad_name": "v"}"#, "deputy: can't write the entries as LDIF: 'bad_name' is not an LDAP attribute name\n"),
            (#"{"dn": "uid=x", "1cn": "v"}"#, "deputy: can't write the entries as LDIF: '1cn' is not an LDAP attribute name\n"),
            (#"{"cn": "v"}"#, "deputy: entry 1 of the export has no single dn\n"),
        ] {
            let file = home.appendingPathComponent("bad.json").path
            try #"{"organization": {}, "entries": [\#(bad)], "delegations": [], "policies": [], "spam": {}}"#.write(toFile: file, atomically: true, encoding: .utf8)
            let refused = try await ProcessRunner.run(CLIHarness.binary, ["export", "--from", file, "--format", "ldif"], environment: environment, replaceEnvironment: true)
            #expect(refused.status == 78)
            #expect(refused.error == message)
            #expect(refused.output.isEmpty)
        }
        let notExport = try await ProcessRunner.run(CLIHarness.binary, ["export", "--from", source + ".missing"], environment: environment, replaceEnvironment: true)
        #expect(notExport.status == 5)
        #expect(notExport.error == "deputy: cannot read the export \(source).missing: no such file\n")
    }
}

/// Which users a test's proxy deletes, and how many more it may.
final class Interference: Sendable {
    private let state = Mutex<(budget: Int, deleted: [String])>((0, []))

    func allow(_ count: Int) { state.withLock { $0.budget = count } }

    var deleted: [String] { state.withLock { $0.deleted } }

    /// The next of `users` to delete, counting it against the budget; nil when spent.
    func next(_ users: [String]) -> String? {
        state.withLock { state in
            guard state.budget > 0 else { return nil }
            state.budget -= 1
            let victim = users[state.deleted.count]
            state.deleted.append(victim)
            return victim
        }
    }
}

extension CLIHarness {
    /// A harness whose daemon has the given limits (for a small listing limit).
    static func start(limits: ServerLimits) async throws -> CLIHarness {
        let server = try await TestServer.launch(limits: limits)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let caFile = home.appendingPathComponent("ca.pem").path
        try server.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        return CLIHarness(server: server, home: home, caFile: caFile)
    }
}

/// A reader of the LDIF the tests get back, written from RFC 2849 independently of the
/// writer: unfolds continuation lines, splits records at blank lines, decodes `::` values.
enum LDIFReader {
    struct Attribute: Equatable {
        let name: String
        let value: String
        let base64: Bool
    }

    struct Record {
        let dn: String
        let attributes: [Attribute]
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func records(_ text: String) throws -> [Record] {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(" ") {
                guard !lines.isEmpty, !lines[lines.count - 1].isEmpty else { throw Malformed(description: "a continuation without a line: \(line)") }
                lines[lines.count - 1] += line.dropFirst()
            } else {
                lines.append(String(line))
            }
        }
        guard lines.first == "version: 1" else { throw Malformed(description: "no version line") }
        var records: [Record] = []
        var current: [Attribute] = []
        func finish() throws {
            guard !current.isEmpty else { return }
            guard current[0].name == "dn" else { throw Malformed(description: "a record without dn first") }
            records.append(Record(dn: current[0].value, attributes: Array(current.dropFirst())))
            current = []
        }
        for line in lines.dropFirst() {
            if line.isEmpty {
                try finish()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(description: "no colon: \(line)") }
            let name = String(line[..<colon])
            var rest = line[line.index(after: colon)...]
            if rest.hasPrefix(":") {
                rest = rest.dropFirst().drop { $0 == " " }
                guard let data = Data(base64Encoded: String(rest)) else { throw Malformed(description: "bad base64: \(line)") }
                current.append(Attribute(name: name, value: String(decoding: data, as: UTF8.self), base64: true))
            } else {
                current.append(Attribute(name: name, value: String(rest.drop { $0 == " " }), base64: false))
            }
        }
        try finish()
        return records
    }
}
