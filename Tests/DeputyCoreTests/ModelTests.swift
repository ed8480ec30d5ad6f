import DeputyCore
import Foundation
import Testing

@Suite("Addresses, permissions, names and times")
struct ModelTests {
    @Test("addresses are validated and matched case-insensitively")
    func addresses() {
        #expect(EmailAddress("Boss@Example.ORG")?.value == "boss@example.org")
        #expect(EmailAddress("a.b+tag@sub.example.org")?.domain == "sub.example.org")
        for bad in ["", "plain", "@example.org", "a@", "a b@example.org", "a@exa mple.org", "a@-example.org", "a@example", "a\"b@example.org", "a@example..org", "a@b.c\n", String(repeating: "a", count: 65) + "@example.org"] {
            #expect(EmailAddress(bad) == nil, "\(bad)")
        }
        #expect(DomainName("Acme.TEST")?.distinguishedNameSuffix == "dc=acme,dc=test")
        #expect(ServiceName("Postfix-1")?.value == "postfix-1")
        #expect(ServiceName("1postfix") == nil)
        #expect(ServiceName("a@b") == nil)
    }

    @Test("permission sets: manage implies read; parsing; order")
    func permissions() {
        #expect(PermissionSet([.manage]).contains(.read))
        #expect(PermissionSet(parsing: "SENDAS,manage")?.description == "read,manage,sendas")
        #expect(PermissionSet(parsing: "read,") == nil)
        #expect(PermissionSet(parsing: "write") == nil)
        #expect(PermissionSet(parsing: "") == nil)
        #expect(PermissionSet([.sendAs]).union(PermissionSet([.read])) == PermissionSet([.read, .sendAs]))
    }

    @Test("distinguished names parse back to addresses")
    func distinguishedNames() {
        #expect(DistinguishedName.parse("uid=alice,ou=users,dc=acme,dc=test")?.name == "alice@acme.test")
        #expect(DistinguishedName.parse("cn=team,ou=groups,dc=acme,dc=test")?.unit == .groups)
        #expect(DistinguishedName.parse("uid=postfix,ou=services")?.name == "postfix")
        #expect(DistinguishedName.parse("uid=alice,ou=people,dc=acme,dc=test") == nil)
        #expect(DistinguishedName.parse("uid=alice") == nil)
        #expect(DistinguishedName.parse("uid=,ou=users,dc=acme") == nil)
    }

    @Test("timestamps are RFC 3339 in UTC and round-trip")
    func timestamps() {
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(Timestamp.format(date) == "2027-01-15T08:00:00Z")
        #expect(Timestamp.parse("2027-01-15T08:00:00Z") == date)
        #expect(Timestamp.parse("2027-01-15T10:00:00+02:00") == date)
        #expect(Timestamp.parse("2027-01-15T08:00:00.500Z") == date.addingTimeInterval(0.5))
        // RFC 3339 allows the letters in lowercase.
        #expect(Timestamp.parse("2027-01-15t08:00:00z") == date)
        #expect(Timestamp.format(date.addingTimeInterval(0.75)) == "2027-01-15T08:00:00Z")
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("2027-01-15") == nil)
    }

    @Test("commands round-trip through JSON, as the journal will store them")
    func commandsAreCodable() throws {
        let commands: [Command] = [
            .addUser(NewUser(address: EmailAddress("a@acme.test")!, displayName: "A", passwordHash: TestDirectory.hash, aliases: [EmailAddress("b@acme.test")!])),
            .delegate(NewDelegation(mailbox: EmailAddress("a@acme.test")!, delegate: EmailAddress("b@acme.test")!, permissions: PermissionSet([.manage, .sendAs]), expiresAt: Date(timeIntervalSince1970: 1_900_000_000))),
            .modifyOrganization(OrganizationChanges(logo: .clear, personalGroups: .administrators)),
            .setRole(EmailAddress("a@acme.test")!, .superAdministrator),
            .modifySpamSettings(SpamChanges(blockDomains: [DomainName("spam.test")!], dmarcFailure: .reject)),
        ]
        for command in commands {
            let data = try JSONEncoder().encode(command)
            #expect(try JSONDecoder().decode(Command.self, from: data) == command)
        }
        // Bad data inside is refused when decoding, not later.
        let bad = Data(#"{"deleteUser":{"_0":"not an address"}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Command.self, from: bad) }
    }
}
