import DeputyCore
@testable import DeputyStore
import Foundation
import Testing

/// The reader that decodes the commonest records without `Codable` must give exactly what
/// `Codable` gives, and give up (so that `Codable` decides) on anything else.
@Suite("Reading records from the tape")
struct TapeCommandReaderTests {
    /// What `Codable` makes of `bytes`, or `nil` when it refuses them.
    private func throughCodable<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? StorageJSONDecoder().decode(type, from: bytes)
    }

    private func reader(_ bytes: [UInt8]) -> TapeCommandReader? {
        (try? JSONTape(bytes)).map(TapeCommandReader.init)
    }

    private static let base = Date(timeIntervalSince1970: 1_796_000_000)

    func address(_ random: inout SimulatedRandom) -> EmailAddress {
        let locals = ["alice", "bob.smith", "x", "user12345", "o'neil", "a+tag", "very.long.local.part.for.inline.overflow.checks"]
        let domains = ["acme.test", "mail.example.org", "b.c"]
        return EmailAddress("\(locals[Int(random.next() % UInt64(locals.count))])@\(domains[Int(random.next() % UInt64(domains.count))])")!
    }

    func date(_ random: inout SimulatedRandom) -> Date {
        // Whole seconds, milliseconds and odd fractions, as commands carry them.
        switch random.next() % 3 {
        case 0: Self.base.addingTimeInterval(Double(random.next() % 1_000_000))
        case 1: Self.base.addingTimeInterval(Double(random.next() % 1_000_000_000) / 1000)
        default: Self.base.addingTimeInterval(Double(random.next() % 1_000_000_007) / 1_000_000_007 * 86_400)
        }
    }

    func context(_ random: inout SimulatedRandom) -> CommandContext {
        let actor: Principal
        switch random.next() % 3 {
        case 0: actor = .user(EntityID(random.next() % 1_000_000))
        case 1: actor = .service(EntityID(random.next() % 1_000))
        default: actor = .system
        }
        let time = date(&random)
        return CommandContext(
            actor: actor, time: time,
            reauthenticatedAt: random.next() % 2 == 0 ? time.addingTimeInterval(-Double(random.next() % 600)) : nil,
            factorVerifiedAt: random.next() % 3 == 0 ? time.addingTimeInterval(-Double(random.next() % 600)) : nil
        )
    }

    private static let hashes = [PasswordHash.none, PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("secret")]

    private func text(_ random: inout SimulatedRandom, _ choices: [String]) -> String {
        choices[Int(random.next() % UInt64(choices.count))]
    }

    /// A command of a kind the reader handles.
    func command(_ random: inout SimulatedRandom) -> Command {
        switch random.next() % 8 {
        case 3:
            let details = DelegatedSendDetails(
                permission: random.next() % 2 == 0 ? .sendAs : .sendOnBehalf,
                queueID: random.next() % 2 == 0 ? text(&random, ["4XyZ0", "B7C2F1A"]) : nil,
                messageID: random.next() % 2 == 0 ? text(&random, ["<m1@acme.test>", "<\"quoted\"@x>"]) : nil,
                path: text(&random, ["policy", "milter"])
            )
            return .recordDelegatedSend(login: address(&random), sender: address(&random), delegation: EntityID(random.next() % 1_000), details: details)
        case 4:
            let attempt = LoginAttempt(
                login: text(&random, ["alice@acme.test", "nobody", "Ünïcode@acme.test"]), source: text(&random, ["192.0.2.7", "2001:db8::1", "local"]),
                via: text(&random, ["bind", "dovecot-auth"]), locked: random.next() % 2 == 0 ? text(&random, ["login", "source"]) : nil
            )
            return random.next() % 2 == 0 ? .recordLoginFailure(attempt) : .recordLockout(attempt)
        case 5:
            return .setPassword(address(&random), Self.hashes[Int(random.next() % 2)])
        case 6:
            let aliases = (0..<(random.next() % 3)).map { _ in address(&random) }
            return .addUser(NewUser(
                address: address(&random), displayName: text(&random, ["Alice", "Bob \"B\" Smith", "Zoë"]), passwordHash: Self.hashes[Int(random.next() % 2)],
                aliases: aliases, recoveryAddress: random.next() % 2 == 0 ? address(&random) : nil, policy: random.next() % 2 == 0 ? "standard" : nil
            ))
        default:
            return commandOfTheFirstKinds(&random)
        }
    }

    private func commandOfTheFirstKinds(_ random: inout SimulatedRandom) -> Command {
        switch random.next() % 3 {
        case 0:
            let permissions = PermissionSet(Permission.allCases.filter { _ in random.next() % 2 == 0 })
            let expiry: Date? = random.next() % 3 == 0 ? date(&random) : nil
            return .delegate(NewDelegation(mailbox: address(&random), delegate: address(&random), permissions: permissions, expiresAt: expiry))
        case 1:
            return .undelegate(mailbox: address(&random), delegate: address(&random))
        default:
            return .recordDelegatedSend(login: address(&random), sender: address(&random), delegation: EntityID(random.next() % 1_000_000))
        }
    }

    @Test("records of the commands it knows read as Codable reads them, logged and journaled")
    func matchesCodable() throws {
        var random = SimulatedRandom(seed: 7)
        for _ in 0..<3_000 {
            let logged = LoggedCommand(context: context(&random), command: command(&random))
            let loggedBytes = try StorageJSONEncoder().encode(logged)
            let read = try #require(reader(loggedBytes)?.loggedCommand(at: 0), "not read: \(String(decoding: loggedBytes, as: UTF8.self))")
            #expect(read == logged)
            #expect(read == throughCodable(LoggedCommand.self, loggedBytes))
            // Stricter than `==` (which takes canonically equivalent strings as equal): the
            // value read encodes to the very bytes it was read from.
            #expect(try StorageJSONEncoder().encode(read) == loggedBytes)

            let journaled = JournalRecord(sequence: random.next() % 10_000_000, time: date(&random), context: logged.context, command: logged.command)
            let journalBytes = try StorageJSONEncoder().encode(journaled)
            let readRecord = try #require(reader(journalBytes)?.journalRecord(at: 0), "not read: \(String(decoding: journalBytes, as: UTF8.self))")
            #expect(readRecord == journaled)
            #expect(readRecord == throughCodable(JournalRecord.self, journalBytes))
            #expect(try StorageJSONEncoder().encode(readRecord) == journalBytes)
        }
    }

    @Test("the coders decode the commands it knows and the others alike")
    func coders() throws {
        let context = CommandContext(actor: .user(EntityID(2)), time: Self.base, reauthenticatedAt: Self.base)
        let commands: [Command] = [
            .delegate(NewDelegation(mailbox: EmailAddress("a@acme.test")!, delegate: EmailAddress("b@acme.test")!, permissions: PermissionSet([.read, .sendAs]))),
            .setBlocked(EmailAddress("a@acme.test")!, true),
            .recordDelegatedSend(
                login: EmailAddress("b@acme.test")!, sender: EmailAddress("a@acme.test")!, delegation: EntityID(9),
                details: DelegatedSendDetails(permission: .sendAs, queueID: "4XyZ", messageID: "<m@acme.test>", path: "policy")
            ),
        ]
        for command in commands {
            let record = LoggedCommand(context: context, command: command)
            let coder = LoggedCommandCoder()
            #expect(try coder.decode(coder.encode(record)) == record)
            let journaled = JournalRecord(sequence: 4, time: Self.base, context: context, command: command)
            let journal = JournalRecordCoder()
            #expect(try journal.decode(journal.encode(journaled)) == journaled)
        }
    }

    /// A record is marked with the oldest rules that apply it as this build does, so nodes
    /// of the version before go on applying the log until a command needs newer rules.
    @Test("records carry the oldest rules version that applies them: 2 for the audit retention, 1 otherwise")
    func rulesVersions() throws {
        let context = CommandContext(actor: .user(EntityID(2)), time: Self.base)
        let retention = LoggedCommand(context: context, command: .modifyOrganization(OrganizationChanges(auditRetentionDays: 30)))
        let other = LoggedCommand(context: context, command: .modifyOrganization(OrganizationChanges(name: "Acme")))
        #expect(retention.rules == 2)
        #expect(retention.rules <= LoggedCommand.currentRules)
        #expect(other.rules == 1)
        #expect(LoggedCommand(context: context, command: .setBlocked(EmailAddress("a@acme.test")!, true)).rules == 1)
        let coder = LoggedCommandCoder()
        #expect(try coder.decode(coder.encode(retention)) == retention)
        #expect(String(decoding: try coder.encode(retention), as: UTF8.self).contains(#""rules":2"#))
    }

    @Test("documents in any other shape are left to Codable: reordered, extra or repeated keys, nulls, escapes, other values")
    func otherShapes() throws {
        let documents = [
            // Keys in another order, an address in capitals and with an escape, null optionals.
            #"{"rules":1,"context":{"time":"2026-11-23T10:15:00Z","actor":{"user":{"_0":2}},"reauthenticatedAt":null},"command":{"undelegate":{"delegate":"B@Acme.Test","mailbox":"a\u0040acme.test"}}}"#,
            // An unknown key at each level.
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1,"extra":true}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test","why":"x"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"delegate":{"_0":{"delegate":"b@acme.test","mailbox":"a@acme.test","permissions":["read"]},"_1":3}},"context":{"actor":{"system":{}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"system":{"x":1}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            // A repeated key: Codable takes the last.
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test","mailbox":"c@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"rules":1,"rules":2,"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"}}"#,
            // Values Codable refuses.
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"not an address"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":null}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"delegate":{"_0":{"delegate":"b@acme.test","mailbox":"a@acme.test","permissions":["read","fly"]}}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"delegate":{"_0":{"delegate":"b@acme.test","mailbox":"a@acme.test","permissions":["read"],"expiresAt":"tomorrow"}}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":-2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2.0}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":"1"}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"},"delegate":{}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"recordDelegatedSend":{"delegation":9,"login":"b@acme.test","sender":"a@acme.test","details":null}},"context":{"actor":{"service":{"_0":3}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            // Texts the initializers of details and login attempts would clean, which
            // Codable keeps as stored.
            #"{"command":{"recordDelegatedSend":{"delegation":9,"details":{"path":"po licy","permission":"sendas"},"login":"b@acme.test","sender":"a@acme.test"}},"context":{"actor":{"system":{}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"recordDelegatedSend":{"delegation":9,"details":{"path":"policy","permission":"sendas","queueID":""},"login":"b@acme.test","sender":"a@acme.test"}},"context":{"actor":{"system":{}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"recordLoginFailure":{"_0":{"login":"x\u0001y","source":"192.0.2.7","via":"bind"}}},"context":{"actor":{"system":{}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            // A password hash that does not parse, and a user without aliases.
            #"{"command":{"setPassword":{"_0":"a@acme.test","_1":"plain"}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"addUser":{"_0":{"address":"a@acme.test","displayName":"A","passwordHash":"!"}}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            #"{"command":{"addUser":{"_0":{"address":"a@acme.test","aliases":["A@Acme.Test"],"displayName":"A","passwordHash":"!","policy":null}}},"context":{"actor":{"user":{"_0":2}},"time":"2026-11-23T10:15:00Z"},"rules":1}"#,
            // A key spelled with an escape.
            #"{"command":{"undelegate":{"delegate":"b@acme.test","mailbox":"a@acme.test"}},"context":{"actor":{"user":{"_0":2}},"\u0074ime":"2026-11-23T10:15:00Z"},"rules":1}"#,
        ]
        var readByTheReader = 0
        for text in documents {
            let bytes = Array(text.utf8)
            let expected = throughCodable(LoggedCommand.self, bytes)
            let read = reader(bytes)?.loggedCommand(at: 0)
            if let read {
                readByTheReader += 1
                #expect(read == expected, "\(text)")
            }
            // Whatever the reader makes of it, the coder answers as Codable does.
            #expect((try? LoggedCommandCoder().decode(bytes)) == expected, "\(text)")
        }
        // The first document, the null details and the last user are in a shape the reader takes.
        #expect(readByTheReader >= 3)
    }

    @Test("random damage to encoded records never makes the reader differ from Codable")
    func damage() throws {
        var random = SimulatedRandom(seed: 11)
        let alphabet = Array(#"{}[],:"\_0129aAzZ@.-enul "#.utf8)
        var compared = 0
        for _ in 0..<400 {
            let logged = LoggedCommand(context: context(&random), command: command(&random))
            let bytes = try StorageJSONEncoder().encode(logged)
            for _ in 0..<50 {
                var damaged = bytes
                for _ in 0...(random.next() % 3) {
                    let position = Int(random.next() % UInt64(damaged.count))
                    switch random.next() % 3 {
                    case 0: damaged[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    case 1: damaged.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                    default: damaged.remove(at: position)
                    }
                }
                guard let reader = reader(damaged) else { continue }
                let expected = throughCodable(LoggedCommand.self, damaged)
                if let read = reader.loggedCommand(at: 0) {
                    compared += 1
                    #expect(read == expected, "\(String(decoding: damaged, as: UTF8.self))")
                    #expect(try StorageJSONEncoder().encode(read) == expected.map { try StorageJSONEncoder().encode($0) })
                }
                #expect((try? LoggedCommandCoder().decode(damaged)) == expected)
            }
        }
        // Some damage leaves a record the reader still takes (a changed digit or letter).
        #expect(compared > 100)
    }
}

/// The writer for the same records must write the encoder's very bytes.
@Suite("Writing records without Codable")
struct CommandRecordWriterTests {
    @Test("records of the commands it knows are written as the encoder writes them, logged and journaled")
    func matchesEncoder() throws {
        var random = SimulatedRandom(seed: 23)
        let generator = TapeCommandReaderTests()
        for _ in 0..<3_000 {
            let logged = LoggedCommand(context: generator.context(&random), command: generator.command(&random))
            let written = try #require(CommandRecordWriter.encode(logged))
            #expect(written == (try StorageJSONEncoder().encode(logged)), "\(String(decoding: written, as: UTF8.self))")
            let journaled = JournalRecord(sequence: random.next() % 10_000_000, time: generator.date(&random), context: logged.context, command: logged.command)
            let writtenRecord = try #require(CommandRecordWriter.encode(journaled))
            #expect(writtenRecord == (try StorageJSONEncoder().encode(journaled)))
        }
    }

    @Test("texts with escapes and other scripts, extreme numbers and early dates are written as the encoder writes them")
    func unusualValues() throws {
        var attempt = LoginAttempt(login: "x", source: "192.0.2.7", via: "bind")
        attempt.login = "ctl\u{1}\u{1F}quote\"back\\slash\ttab Zoë 日本"
        attempt.locked = "login\n"
        var details = DelegatedSendDetails(permission: .sendAs, queueID: nil, messageID: nil, path: "policy")
        details.messageID = "<\u{7F}\"m\"@x>"
        details.queueID = ""
        let early = Date(timeIntervalSince1970: -2_208_988_800.125)
        let commands: [Command] = [
            .recordLoginFailure(attempt),
            .recordLockout(attempt),
            .recordDelegatedSend(login: EmailAddress("b@acme.test")!, sender: EmailAddress("a@acme.test")!, delegation: EntityID(.max), details: details),
            .addUser(NewUser(address: EmailAddress("a@acme.test")!, displayName: "Ä \u{0}\"\\", passwordHash: .none, aliases: [], policy: "")),
            .delegate(NewDelegation(mailbox: EmailAddress("a@acme.test")!, delegate: EmailAddress("b@acme.test")!, permissions: PermissionSet([]), expiresAt: early)),
        ]
        let contexts = [
            CommandContext(actor: .user(EntityID(.max)), time: early, reauthenticatedAt: Date(timeIntervalSince1970: 0), factorVerifiedAt: early),
            CommandContext(actor: .service(EntityID(0)), time: Date(timeIntervalSince1970: 253_402_300_799.5)),
        ]
        for command in commands {
            for context in contexts {
                for rules in [0, 1, Int.max, -1] {
                    let logged = LoggedCommand(context: context, command: command, rules: rules)
                    let written = try #require(CommandRecordWriter.encode(logged))
                    #expect(written == (try StorageJSONEncoder().encode(logged)), "\(String(decoding: written, as: UTF8.self))")
                    #expect((try? LoggedCommandCoder().decode(written)) == logged)
                }
                let journaled = JournalRecord(sequence: .max, time: early, context: context, command: command)
                #expect(CommandRecordWriter.encode(journaled) == (try StorageJSONEncoder().encode(journaled)))
            }
        }
    }

    @Test("other commands, and dates the encoder cannot write, are left to Codable")
    func leavesOthers() throws {
        let context = CommandContext(actor: .system, time: Date(timeIntervalSince1970: 1_796_000_000))
        #expect(CommandRecordWriter.encode(LoggedCommand(context: context, command: .setBlocked(EmailAddress("a@acme.test")!, true))) == nil)
        #expect(CommandRecordWriter.encode(LoggedCommand(context: context, command: .deleteUser(EmailAddress("a@acme.test")!))) == nil)
        let farFuture = CommandContext(actor: .system, time: Date(timeIntervalSince1970: 1e12))
        let undelegate = Command.undelegate(mailbox: EmailAddress("a@acme.test")!, delegate: EmailAddress("b@acme.test")!)
        #expect(CommandRecordWriter.encode(LoggedCommand(context: farFuture, command: undelegate)) == nil)
        #expect(throws: StoreError.self) { try LoggedCommandCoder().encode(LoggedCommand(context: farFuture, command: undelegate)) }
    }
}
