@testable import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Logging
import NIOCore
import Testing

/// The milter's parts without a socket: packets, header addresses, the decision, and whole
/// conversations fed as bytes.
@Suite("Milter")
struct MilterTests {
    static func packet(_ command: Character, _ data: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: UInt32(data.count + 1).bigEndian, Array.init) + [command.asciiValue!] + data
    }

    static func strings(_ items: String...) -> [UInt8] {
        items.flatMap { Array($0.utf8) + [0] }
    }

    static let negotiation = packet("O", withUnsafeBytes(of: UInt32(6).bigEndian, Array.init) + withUnsafeBytes(of: UInt32(0x1FF).bigEndian, Array.init)
        + withUnsafeBytes(of: UInt32(0x1F_FFFF).bigEndian, Array.init))

    @Test("packets: whole ones parse, partial ones wait, broken ones are refused")
    func packets() throws {
        let decoder = MilterPacketDecoder(maximumLength: 64)
        var buffer = ByteBuffer(bytes: Self.packet("L", Self.strings("From", "alice@example.test")) + Self.packet("E"))
        #expect(try decoder.decode(&buffer) == .header(name: "From", value: "alice@example.test"))
        #expect(try decoder.decode(&buffer) == .endOfMessage)
        #expect(try decoder.decode(&buffer) == nil)

        let whole = Self.packet("D", [UInt8(ascii: "M")] + Self.strings("{auth_authen}", "bob@example.test", "i", "Q1"))
        for cut in 0..<whole.count {
            var partial = ByteBuffer(bytes: whole.prefix(cut))
            #expect(try decoder.decode(&partial) == nil, "cut at \(cut)")
            #expect(partial.readableBytes == cut)
        }
        var full = ByteBuffer(bytes: whole)
        #expect(try decoder.decode(&full) == .macros(stage: UInt8(ascii: "M"), [MilterMacro(name: "{auth_authen}", value: "bob@example.test"), MilterMacro(name: "i", value: "Q1")]))

        for bad in [
            [0, 0, 0, 0],                                         // length zero
            [0, 0, 0, 65] + [UInt8](repeating: 0x4C, count: 65),  // over the limit
            Self.packet("z"),                                     // unknown command
            Self.packet("L", Array("From".utf8) + [0] + Array("x".utf8)),  // unterminated
            Self.packet("L", Self.strings("From")),               // a name without a value
            Self.packet("O", [0, 0, 0, 6]),                       // short negotiation
            Self.packet("D", [UInt8(ascii: "M")] + Self.strings("i")),  // a macro without a value
        ] as [[UInt8]] {
            var buffer = ByteBuffer(bytes: bad)
            #expect(throws: MailAdapterError.self, "\(bad.prefix(8))") { _ = try decoder.decode(&buffer) }
        }
        // The length is refused before the bytes arrive.
        var early = ByteBuffer(bytes: [0, 1, 0, 0])
        #expect(throws: MailAdapterError.self) { _ = try decoder.decode(&early) }
    }

    @Test("header addresses: display names, quotes, comments, groups, folding; unreadable is nil", arguments: [
        ("alice@example.test", ["alice@example.test"]),
        ("Alice <alice@example.test>", ["alice@example.test"]),
        ("\"Smith, Alice\" <alice@example.test> (work), bob@example.test", ["alice@example.test", "bob@example.test"]),
        ("\"bob@example.test\" <alice@example.test>", ["alice@example.test"]),
        ("alice@example.test (Alice <ceo@example.test>)", ["alice@example.test"]),
        ("Team: alice@example.test, Bob <bob@example.test>;", ["alice@example.test", "bob@example.test"]),
        ("undisclosed-recipients:;", []),
        ("Alice\r\n <alice@example.test>", ["alice@example.test"]),
        ("<@relay.example.test:alice@example.test>", ["alice@example.test"]),
        ("Alice <\"a b\"@example.test>", ["\"a b\"@example.test"]),
    ] as [(String, [String])])
    func headerAddresses(value: String, expected: [String]) {
        #expect(HeaderAddressList.parse(value) == expected)
    }

    @Test("unreadable header values", arguments: [
        "Alice <alice@example.test", "\"Alice <alice@example.test>", "(Alice <alice@example.test>", "<a@example.test> <b@example.test>",
        "Alice", "Alice <alice>", "alice@example.test>", "\"c<70#@\"", "Alice <\"a@b\">", "<alice@example.test> bob@example.test", "a@example.test b@example.test",
    ])
    func unreadable(value: String) {
        #expect(HeaderAddressList.parse(value) == nil)
    }

    static func decide(_ login: String, from: [String], sender: [String] = [], unauthenticated: MilterUnauthenticated = .accept) -> HeaderDecision {
        HeaderDecision.decide(login: login, from: from, sender: sender, unauthenticated: unauthenticated, in: MailFixture.directory(), at: MailFixture.now, delimiter: nil)
    }

    @Test("the header decision: as, on behalf of, Sender:, refusals with reasons")
    func headerDecision() {
        // Own address and alias, and send-as through a direct grant and through a group.
        #expect(Self.decide("boss@example.test", from: ["Boss <chief@example.test>"]).outcome == .accept(addSender: nil))
        let secretary = Self.decide("secretary@example.test", from: ["boss@example.test"])
        #expect(secretary.outcome == .accept(addSender: nil))
        #expect(secretary.delegatedSends.map { "\($0.sender) \($0.permission.rawValue) \($0.grant.delegation)" } == ["boss@example.test sendas 11"])
        #expect(Self.decide("member1@example.test", from: ["boss@example.test"]).delegatedSends.first?.grant.viaGroup?.value == "team@example.test")
        // A Sender: the login may use is fine with send-as; one it may not use is refused.
        #expect(Self.decide("secretary@example.test", from: ["boss@example.test"], sender: ["secretary@example.test"]).outcome == .accept(addSender: nil))
        #expect(Self.decide("secretary@example.test", from: ["secretary@example.test"], sender: ["member1@example.test"]).outcome
            == .reject("Sender: secretary@example.test is not allowed to send as member1@example.test (reason=lacks-permission)"))
        // Refusals carry the reason and the grant.
        #expect(Self.decide("reader@example.test", from: ["boss@example.test"]).outcome
            == .reject("From: reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)"))
        #expect(Self.decide("temp@example.test", from: ["boss@example.test"]).outcome
            == .reject("From: temp@example.test is not allowed to send as boss@example.test: the delegation has expired (reason=expired grant=13)"))
        #expect(Self.decide("blockeduser@example.test", from: ["boss@example.test"]).outcome
            == .reject("From: the account blockeduser@example.test is blocked (reason=delegate-blocked)"))
        #expect(Self.decide("boss@example.test", from: ["boss@example.test, ghost@example.test"]).outcome
            == .reject("From: no user or group has the address ghost@example.test (reason=unknown-address)"))
        // Headers that can't be read, or that come twice, are refused.
        // Each refusal says which: no From: at all, one that names nobody, one that can't be read.
        #expect(Self.decide("boss@example.test", from: []).outcome == .reject("the message has no From: header"))
        #expect(Self.decide("boss@example.test", from: ["undisclosed-recipients:;"]).outcome == .reject("the message's From: header names no address"))
        #expect(Self.decide("boss@example.test", from: ["boss@example.test", "boss@example.test"]).outcome == .reject("the message has more than one From: header"))
        #expect(Self.decide("boss@example.test", from: ["Boss <boss@example.test"]).outcome == .reject("the message's From: header can't be read"))
        #expect(Self.decide("boss@example.test", from: ["boss@example.test"], sender: ["a@example.test, b@example.test"]).outcome
            == .reject("the message's Sender: header must name exactly one address"))
        // Unauthenticated: left alone, or refused for the organisation's addresses.
        #expect(Self.decide("", from: ["boss@example.test"]).outcome == .accept(addSender: nil))
        #expect(Self.decide("", from: ["boss@example.test"], unauthenticated: .reject).outcome == .reject("not logged in: log in to send as boss@example.test"))
        #expect(Self.decide("", from: ["friend@elsewhere.test"], unauthenticated: .reject).outcome == .accept(addSender: nil))
        // A quoted local part is the same mailbox to a mail reader: "boss"@ is boss@.
        #expect(Self.decide("", from: ["\"boss\"@example.test"], unauthenticated: .reject).outcome == .reject("not logged in: log in to send as \"boss\"@example.test"))
        #expect(Self.decide("", from: ["Boss <boss@example.test.>"], unauthenticated: .reject).outcome == .reject("not logged in: log in to send as boss@example.test."))
    }

    @Test("send on behalf of: Sender: added when missing, kept when it names the login, refused otherwise")
    func onBehalf() {
        var directory = MailFixture.directory()
        let context = CommandContext(actor: .system, time: MailFixture.created)
        _ = directory.apply(.delegate(NewDelegation(mailbox: MailFixture.address("boss@example.test"), delegate: MailFixture.address("reader@example.test"), permissions: PermissionSet([.read, .sendOnBehalf]))), context: context)
        func decide(from: String, sender: [String]) -> HeaderDecision {
            HeaderDecision.decide(login: "READER@example.test", from: [from], sender: sender, unauthenticated: .accept, in: directory, at: MailFixture.now, delimiter: nil)
        }
        let added = decide(from: "boss@example.test", sender: [])
        #expect(added.outcome == .accept(addSender: MailFixture.address("reader@example.test")))
        #expect(added.delegatedSends.map { "\($0.sender) \($0.permission.rawValue) \($0.grant.delegation)" } == ["boss@example.test sendonbehalf 12"])
        #expect(decide(from: "boss@example.test", sender: ["Reader <reader@example.test>"]).outcome == .accept(addSender: nil))
        #expect(decide(from: "boss@example.test", sender: ["secretary@example.test"]).outcome
            == .reject("Sender: must name READER@example.test when sending on behalf of boss@example.test"))
        // The envelope check refuses what only send-on-behalf allows: the envelope is send-as.
        #expect(!directory.sendAs(login: "reader@example.test", address: "boss@example.test", at: MailFixture.now).allowed)
    }

    /// Runs `input` through a conversation and returns what it wrote.
    static func converse(
        _ input: [UInt8], recorder: CollectingRecorder = CollectingRecorder(), ready: Bool = true, delimiter: RecipientDelimiter? = nil
    ) async throws -> (output: [UInt8], disposition: String) {
        let environment = try MailEnvironmentForTests.make(ready: ready, recorder: recorder, recipientDelimiter: delimiter)
        var conversation = MilterConversation(environment: environment, limits: MailAdapterLimits(), unauthenticated: .accept, logger: .init(label: "test"))
        var buffer = ByteBuffer(bytes: input)
        var output = ByteBuffer()
        let disposition = try await conversation.receive(&buffer, into: &output)
        return (Array(output.readableBytesView), "\(disposition)")
    }

    static func message(login: String?, envelope: String, headers: [(String, String)], queueID: String = "4QX1") -> [UInt8] {
        var bytes = negotiation
        bytes += packet("D", [UInt8(ascii: "M")] + (login.map { strings("{auth_authen}", $0) } ?? []) + strings("{mail_addr}", envelope))
        bytes += packet("M", strings("<\(envelope)>", "SIZE=100"))
        for (name, value) in headers { bytes += packet("L", strings(name, value)) }
        bytes += packet("N")
        bytes += packet("D", [UInt8(ascii: "E")] + strings("i", queueID))
        bytes += packet("E")
        return bytes
    }

    static let negotiated: [UInt8] = {
        let steps: UInt32 = 0x01 | 0x02 | 0x08 | 0x10 | 0x100 | 0x200 | 0x80
        return packet("O", withUnsafeBytes(of: UInt32(6).bigEndian, Array.init) + withUnsafeBytes(of: UInt32(1).bigEndian, Array.init) + withUnsafeBytes(of: steps.bigEndian, Array.init))
    }()

    @Test("a conversation: negotiation, no reply per header, the answer at the end, the send recorded with its queue id")
    func conversation() async throws {
        let recorder = CollectingRecorder()
        let accepted = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "secretary@example.test",
                                                            headers: [("From", "boss@example.test"), ("Message-ID", " <m1@example.test>")]), recorder: recorder)
        // Negotiation, continue after MAIL and after the end of the headers, continue at the end.
        #expect(accepted.output == Self.negotiated + Self.packet("c") + Self.packet("c") + Self.packet("c"))
        #expect(recorder.all.map { "\($0.login) \($0.sender) \($0.details.permission.rawValue) \($0.details.queueID ?? "-") \($0.details.messageID ?? "-") \($0.details.path)" }
            == ["secretary@example.test boss@example.test sendas 4QX1 <m1@example.test> milter"])

        let refused = try await Self.converse(Self.message(login: "reader@example.test", envelope: "reader@example.test", headers: [("From", "boss@example.test")]))
        let text = "554 5.7.1 From: reader@example.test is not allowed to send as boss@example.test: the delegation does not include it (reason=lacks-permission grant=12)"
        #expect(refused.output == Self.negotiated + Self.packet("c") + Self.packet("c") + Self.packet("y", Self.strings(text)))

        // The envelope sender's delegation is recorded too, once, when the header is the login's own.
        let envelopeOnly = CollectingRecorder()
        _ = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "boss@example.test", headers: [("From", "secretary@example.test")]), recorder: envelopeOnly)
        #expect(envelopeOnly.all.map { "\($0.sender) \($0.details.permission.rawValue)" } == ["boss@example.test sendas"])
        let both = CollectingRecorder()
        _ = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "boss@example.test", headers: [("From", "boss@example.test")]), recorder: both)
        #expect(both.all.count == 1)
        // With address extensions, an envelope sender with one is recorded against its mailbox.
        let plus = RecipientDelimiter("+")!
        let extended = CollectingRecorder()
        _ = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "boss+news@example.test", headers: [("From", "secretary@example.test")]), recorder: extended, delimiter: plus)
        #expect(extended.all.map { "\($0.sender) \($0.details.permission.rawValue)" } == ["boss@example.test sendas"])
        let extendedBoth = CollectingRecorder()
        _ = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "boss+news@example.test", headers: [("From", "boss+news@example.test")]), recorder: extendedBoth, delimiter: plus)
        #expect(extendedBoth.all.map(\.sender) == ["boss@example.test"])

        // Not ready: a temporary failure, nothing recorded.
        let notReady = CollectingRecorder()
        let deferred = try await Self.converse(Self.message(login: "secretary@example.test", envelope: "boss@example.test", headers: [("From", "boss@example.test")]), recorder: notReady, ready: false)
        #expect(deferred.output.suffix(5) == Self.packet("t")[...])
        #expect(notReady.all.isEmpty)

        // Quit closes; a command before negotiation is refused.
        #expect(try await Self.converse(Self.negotiation + Self.packet("Q")).disposition == "close")
        await #expect(throws: MailAdapterError.self) { _ = try await Self.converse(Self.packet("E")) }
    }
}
