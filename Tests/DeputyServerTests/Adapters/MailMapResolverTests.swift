import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Testing

@Suite("Mail maps")
struct MailMapResolverTests {
    let directory = MailFixture.directory()

    private func lookup(_ map: MailMap, _ key: String) -> String? {
        MailMapResolver.lookup(map, key: key, in: directory, at: MailFixture.now, delimiter: nil).value
    }

    @Test("senders: owner, direct and group delegates with sendas; not read-only, expired or blocked")
    func senders() {
        #expect(lookup(.senders, "boss@example.test") == "boss@example.test,member1@example.test,member2@example.test,secretary@example.test")
        #expect(lookup(.senders, "CHIEF@example.TEST") == lookup(.senders, "boss@example.test"))
        #expect(lookup(.senders, "gone@example.test") == "secretary@example.test")
        #expect(lookup(.senders, "reader@example.test") == "reader@example.test,secretary@example.test")
        #expect(lookup(.senders, "ghost@example.test") == nil)
        #expect(lookup(.senders, "@example.test") == nil)
        #expect(lookup(.senders, "boss") == nil)
        #expect(lookup(.senders, "blockeduser@example.test") == nil)
    }

    @Test("senders agrees with QUERY SENDAS for every login and address")
    func sendersAgreeWithSendAs() {
        let logins = MailFixture.logins
        let addresses = MailFixture.addresses
        for address in addresses {
            let listed = Set(lookup(.senders, address.uppercased())?.split(separator: ",").map(String.init) ?? [])
            for login in logins {
                #expect(listed.contains(login) == directory.sendAs(login: login, address: address, at: MailFixture.now).allowed, "\(login) as \(address)")
            }
        }
    }

    @Test("mailboxes: own first, then delegated for reading")
    func mailboxes() {
        #expect(lookup(.mailboxes, "secretary@example.test") == "secretary@example.test,boss@example.test,gone@example.test")
        #expect(lookup(.mailboxes, "Member1@Example.Test") == "member1@example.test,boss@example.test")
        #expect(lookup(.mailboxes, "temp@example.test") == "temp@example.test")
        #expect(lookup(.mailboxes, "blockeduser@example.test") == nil)
        #expect(lookup(.mailboxes, "ghost@example.test") == nil)
    }

    @Test("delegates: active ones, with permissions joined by +")
    func delegates() {
        #expect(lookup(.delegates, "boss@example.test") == "secretary@example.test:read+sendas,reader@example.test:read,team@example.test:read+manage+sendas")
        #expect(lookup(.delegates, "chief@example.test") == lookup(.delegates, "boss@example.test"))
        #expect(lookup(.delegates, "reader@example.test") == "secretary@example.test:sendas")
        #expect(lookup(.delegates, "member1@example.test") == nil)
    }

    @Test("a group inside a group: aliases expand it to its members, senders list them")
    func nestedGroups() {
        var nested = MailFixture.directory()
        let added = nested.apply(.addGroup(NewGroup(
            address: EmailAddress("all@example.test")!, name: "All", kind: .organization,
            members: [EmailAddress("team@example.test")!, EmailAddress("temp@example.test")!], membersMaySendAs: true
        )), context: CommandContext(actor: .system, time: MailFixture.now))
        #expect((try? added.get()) != nil, "\(added)")
        func lookup(_ map: MailMap, _ key: String) -> String? {
            MailMapResolver.lookup(map, key: key, in: nested, at: MailFixture.now, delimiter: nil).value
        }
        #expect(lookup(.aliases, "all@example.test") == "member1@example.test,member2@example.test,temp@example.test")
        #expect(lookup(.senders, "all@example.test") == "member1@example.test,member2@example.test,temp@example.test")
        #expect(lookup(.aliases, "team@example.test") == "member1@example.test,member2@example.test")
    }

    @Test("aliases: alias to primary, primary to itself, group to members")
    func aliases() {
        #expect(lookup(.aliases, "Chief@Example.Test") == "boss@example.test")
        #expect(lookup(.aliases, "boss@example.test") == "boss@example.test")
        #expect(lookup(.aliases, "team@example.test") == "member1@example.test,member2@example.test")
        #expect(lookup(.aliases, "ghost@example.test") == nil)
    }
}
