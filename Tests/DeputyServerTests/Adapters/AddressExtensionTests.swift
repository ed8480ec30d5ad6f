import DeputyCore
import DeputyMailAdapters
import DeputyServer
import Foundation
import Testing

/// Address extensions (`alice+lists@`), read as Postfix reads them with `recipient_delimiter`,
/// by every mail listener that takes an address: the maps, the policy service and the milter.
@Suite("Address extensions")
struct AddressExtensionTests {
    let plus = RecipientDelimiter("+")!

    @Test("a delimiter is ASCII punctuation other than the address's own syntax")
    func delimiterSyntax() {
        #expect(RecipientDelimiter("+")?.characters == "+")
        #expect(RecipientDelimiter("-+")?.characters == "+-")
        #expect(RecipientDelimiter("++")?.characters == "+")
        for refused in ["", "a", "7", "@", ".", "\"", " ", "+ ", "é", "<", ",", String(repeating: "+-", count: 9)] {
            #expect(RecipientDelimiter(refused) == nil, "\(refused)")
        }
    }

    @Test("split as Postfix splits: at the first delimiter, never before the first character, never postmaster or a list address")
    func split() {
        #expect(plus.split("alice+lists@example.test")! == ("alice@example.test", "+lists"))
        #expect(plus.split("alice+a+b@example.test")! == ("alice@example.test", "+a+b"))
        #expect(plus.split("alice+@example.test")! == ("alice@example.test", "+"))
        #expect(plus.split("alice@example.test") == nil)
        #expect(plus.split("+lists@example.test") == nil)
        #expect(plus.split("postmaster@example.test") == nil)
        #expect(plus.split("alice") == nil)
        let both = RecipientDelimiter("+-")!
        #expect(both.split("a-b+c@example.test")! == ("a@example.test", "-b+c"))
        #expect(both.split("owner-list@example.test") == nil)
        #expect(both.split("list-request@example.test") == nil)
        #expect(both.split("mailer-daemon@example.test") == nil)
        #expect(plus.split("owner+x@example.test")! == ("owner@example.test", "+x"))
        #expect(RecipientDelimiter.extend("boss@example.test", with: "+x") == "boss+x@example.test")
    }

    private func lookup(_ map: MailMap, _ key: String, delimiter: RecipientDelimiter?, in directory: Directory = MailFixture.directory()) -> String? {
        MailMapResolver.lookup(map, key: key, in: directory, at: MailFixture.now, delimiter: delimiter).value
    }

    @Test("maps: senders and delegates of the address without its extension, aliases with the extension passed on")
    func maps() {
        #expect(lookup(.senders, "boss+news@example.test", delimiter: plus) == lookup(.senders, "boss@example.test", delimiter: nil))
        #expect(lookup(.senders, "Chief+News@Example.test", delimiter: plus) == lookup(.senders, "boss@example.test", delimiter: nil))
        #expect(lookup(.delegates, "boss+news@example.test", delimiter: plus) == lookup(.delegates, "boss@example.test", delimiter: nil))
        #expect(lookup(.aliases, "boss+news@example.test", delimiter: plus) == "boss+news@example.test")
        #expect(lookup(.aliases, "chief+x@example.test", delimiter: plus) == "boss+x@example.test")
        #expect(lookup(.aliases, "team+x@example.test", delimiter: plus) == "member1+x@example.test,member2+x@example.test")
        // Without the setting, or for an address nobody has, nothing is found.
        #expect(lookup(.senders, "boss+news@example.test", delimiter: nil) == nil)
        #expect(lookup(.aliases, "boss+news@example.test", delimiter: nil) == nil)
        #expect(lookup(.aliases, "ghost+x@example.test", delimiter: plus) == nil)
        #expect(lookup(.senders, "boss-news@example.test", delimiter: plus) == nil)
        // A login is taken as written: Dovecot and Postfix pass logins, not recipients.
        #expect(lookup(.mailboxes, "secretary+x@example.test", delimiter: plus) == nil)
    }

    @Test("an address the directory holds with the delimiter in it is found as written, and its extensions are nobody's")
    func addressHeldWithTheDelimiter() {
        var directory = MailFixture.directory()
        let added = directory.apply(
            .addUser(NewUser(address: MailFixture.address("boss+team@example.test"), displayName: "Boss's team", passwordHash: MailFixture.hasher.hash(MailFixture.password))),
            context: CommandContext(actor: .system, time: MailFixture.created)
        )
        if case .failure(let error) = added { Issue.record("boss+team@ refused: \(error)") }
        #expect(lookup(.aliases, "boss+team@example.test", delimiter: plus, in: directory) == "boss+team@example.test")
        #expect(lookup(.senders, "boss+team@example.test", delimiter: plus, in: directory) == "boss+team@example.test")
        #expect(lookup(.senders, "boss+other@example.test", delimiter: plus, in: directory) == lookup(.senders, "boss@example.test", delimiter: nil))
        // boss+team+x@ reads as an extension of boss+team@ as much as of boss@: neither
        // boss nor his delegates may use it, and mail to it reaches neither.
        #expect(lookup(.senders, "boss+team+x@example.test", delimiter: plus, in: directory) == nil)
        #expect(lookup(.aliases, "boss+team+x@example.test", delimiter: plus, in: directory) == nil)
        #expect(plus.longerBases(of: "boss+team+x@example.test") == ["boss+team@example.test"])
        #expect(plus.longerBases(of: "a+b+c+d@example.test") == ["a+b@example.test", "a+b+c@example.test"])
        #expect(plus.longerBases(of: "boss+x@example.test").isEmpty)
        let dash = RecipientDelimiter("-")!
        #expect(dash.split("double-bounce@example.test") == nil)
        #expect(dash.split("double-trouble@example.test")?.base == "double@example.test")
    }

    private func policy(login: String, sender: String, delimiter: RecipientDelimiter?) -> PolicyDecision {
        PolicyDecision.decide(
            PolicyRequest(attributes: ["request": "smtpd_access_policy", "sender": sender, "sasl_username": login]),
            in: MailFixture.directory(), at: MailFixture.now, delimiter: delimiter
        )
    }

    @Test("policy service: the owner and a delegate with sendas may use an extension; the send is recorded against the mailbox")
    func policyService() {
        #expect(policy(login: "boss@example.test", sender: "boss+news@example.test", delimiter: plus).action == .dunno)
        let delegated = policy(login: "secretary@example.test", sender: "boss+news@example.test", delimiter: plus)
        #expect(delegated.action == .dunno)
        #expect(delegated.delegatedSend?.sender.value == "boss@example.test")
        #expect(policy(login: "reader@example.test", sender: "boss+news@example.test", delimiter: plus).action.line.hasPrefix("action=REJECT 5.7.1 reader@example.test is not allowed to send as boss@example.test"))
        #expect(policy(login: "boss@example.test", sender: "boss+news@example.test", delimiter: nil).action.line.hasPrefix("action=REJECT 5.7.1 "))
    }

    private func header(login: String, from: String, sender: [String] = [], delimiter: RecipientDelimiter?) -> HeaderDecision {
        HeaderDecision.decide(login: login, from: [from], sender: sender, unauthenticated: .accept, in: MailFixture.directory(), at: MailFixture.now, delimiter: delimiter)
    }

    @Test("milter: From: and Sender: with an extension are read without it")
    func milter() {
        #expect(header(login: "boss@example.test", from: "Boss <boss+news@example.test>", delimiter: plus).outcome == .accept(addSender: nil))
        let delegated = header(login: "secretary@example.test", from: "boss+news@example.test", delimiter: plus)
        #expect(delegated.outcome == .accept(addSender: nil))
        #expect(delegated.delegatedSends.map(\.sender.value) == ["boss@example.test"])
        #expect(header(login: "secretary@example.test", from: "boss@example.test", sender: ["secretary+x@example.test"], delimiter: plus).outcome == .accept(addSender: nil))
        if case .reject(let text) = header(login: "reader@example.test", from: "boss+news@example.test", delimiter: plus).outcome {
            #expect(text.hasPrefix("From: reader@example.test is not allowed to send as boss@example.test"), "\(text)")
        } else {
            Issue.record("reader may not send as boss+news@")
        }
        if case .reject = header(login: "boss@example.test", from: "boss+news@example.test", delimiter: nil).outcome {} else {
            Issue.record("without the setting boss+news@ is nobody's")
        }
    }

    @Test("the setting: checked, and carried to the mail listeners")
    func setting() throws {
        let settings = try DaemonSettings(SettingValues(flags: [.socketmap: ["127.0.0.1:7640"], .recipientDelimiter: ["+-"]], environment: [:]))
        #expect(settings.mail.recipientDelimiter?.characters == "+-")
        #expect(try DaemonSettings(SettingValues(flags: [:], environment: [:])).mail.recipientDelimiter == nil)
        do {
            _ = try DaemonSettings(SettingValues(flags: [:], environment: ["DEPUTY_RECIPIENT_DELIMITER": "@"]))
            Issue.record("@ is no delimiter")
        } catch {
            #expect(error.description.hasPrefix("DEPUTY_RECIPIENT_DELIMITER: expected one to 16 ASCII punctuation characters"), "\(error)")
        }
    }
}
