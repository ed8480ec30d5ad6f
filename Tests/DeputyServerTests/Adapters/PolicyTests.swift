import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import NIOCore
import Testing

@Suite("Policy requests and decisions")
struct PolicyTests {
    static let block = "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=boss@example.test\nsasl_username=secretary@example.test\ninstance=1a.2b\nunknown_attribute=ignored\n\n"

    private func decodeAll(_ text: String, maximum: Int = 4_096) throws(MailAdapterError) -> [PolicyRequest] {
        var decoder = PolicyRequestDecoder(maximumBlockSize: maximum)
        var buffer = ByteBuffer(string: text)
        var requests: [PolicyRequest] = []
        while let request = try decoder.decode(&buffer) { requests.append(request) }
        return requests
    }

    @Test("a block becomes a request; unknown attributes are kept and ignored")
    func block() throws {
        let requests = try decodeAll(Self.block + "request=smtpd_access_policy\nsender=\nsasl_username=\n\n")
        #expect(requests.count == 2)
        #expect(requests[0].request == "smtpd_access_policy")
        #expect(requests[0].protocolState == "RCPT")
        #expect(requests[0].sender == "boss@example.test")
        #expect(requests[0].saslUsername == "secretary@example.test")
        #expect(requests[0].instance == "1a.2b")
        #expect(requests[0].attributes["unknown_attribute"] == "ignored")
        #expect(requests[1].sender == "")
        #expect(requests[1].saslUsername == "")
    }

    @Test("split at every byte, the same requests come out")
    func splitAtEveryByte() throws {
        let stream = Array((Self.block + Self.block.replacingOccurrences(of: "\n", with: "\r\n")).utf8)
        let expected = try decodeAll(String(decoding: stream, as: UTF8.self))
        #expect(expected.count == 2)
        #expect(expected[0] == expected[1])
        for split in 0...stream.count {
            var decoder = PolicyRequestDecoder(maximumBlockSize: 4_096)
            var buffer = ByteBuffer()
            var requests: [PolicyRequest] = []
            for chunk in [stream[..<split], stream[split...]] {
                buffer.writeBytes(chunk)
                while let request = try decoder.decode(&buffer) { requests.append(request) }
            }
            #expect(requests == expected, "split at \(split)")
        }
    }

    @Test("malformed blocks are refused", arguments: ["\n", "no equals sign\n\n", "=value\n\n", "sender=a\nbroken\n\n"])
    func malformed(_ text: String) {
        #expect { try decodeAll(text) } throws: { ($0 as? MailAdapterError)?.code == .malformed }
    }

    @Test("a block over the size limit is refused, complete or not")
    func overSize() {
        let long = "sender=" + String(repeating: "a", count: 200) + "\n"
        #expect { try decodeAll(long + "\n", maximum: 100) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
        #expect { try decodeAll(long, maximum: 100) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
        // Many short lines, each under the limit, add up over it.
        let many = String(repeating: "a=b\n", count: 30)
        #expect { try decodeAll(many, maximum: 100) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
        #expect(throws: Never.self) { try decodeAll(String(repeating: "a=b\n", count: 20) + "\n", maximum: 100) }
    }

    @Test("too many attributes are refused")
    func tooManyAttributes() {
        let lines = (0...MailAdapterDefaults.policyMaximumAttributes).map { "a\($0)=b\n" }.joined()
        #expect { try decodeAll(lines + "\n", maximum: 1 << 20) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
    }

    @Test("actions are encoded with their empty line; control characters can't break the reply")
    func actions() {
        func encoded(_ action: PolicyAction) -> String {
            var buffer = ByteBuffer()
            action.encode(into: &buffer)
            return String(buffer: buffer)
        }
        #expect(encoded(.dunno) == "action=DUNNO\n\n")
        #expect(encoded(.reject("5.7.1 no")) == "action=REJECT 5.7.1 no\n\n")
        #expect(encoded(.deferIfPermit("4.3.0 later")) == "action=DEFER_IF_PERMIT 4.3.0 later\n\n")
        #expect(encoded(.reject("5.7.1 a\nb")) == "action=REJECT 5.7.1 a?b\n\n")
    }

    private func decide(login: String, sender: String) -> PolicyDecision {
        PolicyDecision.decide(
            PolicyRequest(attributes: ["request": "smtpd_access_policy", "sender": sender, "sasl_username": login]),
            in: MailFixture.directory(), at: MailFixture.now, delimiter: nil
        )
    }

    @Test("decisions name their reason", arguments: [
        ("boss@example.test", "boss@example.test", "action=DUNNO"),
        ("boss@example.test", "Chief@Example.TEST", "action=DUNNO"),
        ("secretary@example.test", "BOSS@example.test", "action=DUNNO"),
        ("member1@example.test", "boss@example.test", "action=DUNNO"),
        ("reader@example.test", "boss@example.test", "action=REJECT 5.7.1 reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)"),
        ("temp@example.test", "boss@example.test", "action=REJECT 5.7.1 temp@example.test is not allowed to send as boss@example.test: the delegation has expired (reason=expired grant=13)"),
        ("blockeduser@example.test", "boss@example.test", "action=REJECT 5.7.1 the account blockeduser@example.test is blocked (reason=delegate-blocked)"),
        ("nobody@example.test", "boss@example.test", "action=REJECT 5.7.1 nobody@example.test is not a login of this organisation (reason=unknown-login)"),
        ("boss@example.test", "ghost@example.test", "action=REJECT 5.7.1 no user or group has the address ghost@example.test (reason=unknown-address)"),
        ("boss@example.test", "boss@elsewhere.test", "action=REJECT 5.7.1 boss@example.test may send only as addresses of this organisation, not as boss@elsewhere.test (reason=unknown-address)"),
        ("", "boss@example.test", "action=REJECT 5.7.1 not logged in: log in to send as boss@example.test"),
        ("", "ghost@EXAMPLE.test", "action=REJECT 5.7.1 not logged in: log in to send as ghost@EXAMPLE.test"),
        ("", "friend@elsewhere.test", "action=DUNNO"),
        // Spellings of the organisation's addresses that Deputy does not take as addresses
        // still name its domain: a local part with `=` or a quoted one, and a domain with the
        // trailing dot that Postfix strips before it queues the message.
        ("", "boss@example.test.", "action=REJECT 5.7.1 not logged in: log in to send as boss@example.test."),
        ("", "ceo=x@example.test", "action=REJECT 5.7.1 not logged in: log in to send as ceo=x@example.test"),
        ("", "\"ceo x\"@Example.Test", "action=REJECT 5.7.1 not logged in: log in to send as \"ceo x\"@Example.Test"),
        ("", "friend@elsewhere.test.", "action=DUNNO"),
        ("", "", "action=DUNNO"),
        ("secretary@example.test", "", "action=DUNNO"),
    ])
    func decisions(_ login: String, _ sender: String, _ expected: String) {
        #expect(decide(login: login, sender: sender).action.line == expected)
    }

    @Test("a decision that relied on a delegation carries the grant; others carry none")
    func grants() throws {
        let direct = try #require(decide(login: "secretary@example.test", sender: "boss@example.test").delegatedSend)
        #expect(direct.login.value == "secretary@example.test")
        #expect(direct.sender.value == "boss@example.test")
        #expect(direct.grant.owner.value == "boss@example.test")
        #expect(direct.grant.viaGroup == nil)
        let viaGroup = try #require(decide(login: "member2@example.test", sender: "chief@example.test").delegatedSend)
        #expect(viaGroup.sender.value == "chief@example.test")
        #expect(viaGroup.grant.viaGroup?.value == "team@example.test")
        #expect(direct.grant.delegation != viaGroup.grant.delegation)
        #expect(decide(login: "boss@example.test", sender: "boss@example.test").delegatedSend == nil)
        #expect(decide(login: "reader@example.test", sender: "boss@example.test").delegatedSend == nil)
    }

    @Test("the policy agrees with QUERY SENDAS for every login and address")
    func agreesWithSendAs() {
        let directory = MailFixture.directory()
        let logins = MailFixture.logins
        let addresses = MailFixture.addresses
        for login in logins {
            for address in addresses {
                let allowed = directory.sendAs(login: login, address: address, at: MailFixture.now).allowed
                let action = PolicyDecision.decide(PolicyRequest(attributes: ["sender": address, "sasl_username": login]), in: directory, at: MailFixture.now, delimiter: nil).action
                #expect((action == .dunno) == allowed, "\(login) as \(address)")
            }
        }
    }
}
