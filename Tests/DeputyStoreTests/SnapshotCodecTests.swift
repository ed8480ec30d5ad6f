import DeputyCore
@testable import DeputyStore
import Foundation
import HashTreeCollections
import Testing

@Suite("Snapshot codec")
struct SnapshotCodecTests {
    /// A directory with more entries than one chunk holds, built from contents directly.
    static func largeContents() -> DirectoryContents {
        let hash = StoreFixture.hash
        let time = StoreFixture.start
        var users = [User(id: EntityID(1), address: EmailAddress("boss@big.test")!, displayName: "Boss", role: .superAdministrator, passwordHash: hash, createdAt: time)]
        for index in 2...9_000 {
            users.append(User(id: EntityID(UInt64(index)), address: EmailAddress("u\(index)@big.test")!, aliases: [EmailAddress("a\(index)@big.test")!], displayName: "User \(index) \"quoted\"", passwordHash: hash, createdAt: time.addingTimeInterval(Double(index) * 0.001)))
        }
        var groups: [Group] = []
        for index in 0..<100 {
            groups.append(Group(id: EntityID(UInt64(10_000 + index)), address: EmailAddress("g\(index)@big.test")!, name: "G\(index)", kind: .organization, owner: nil, members: [.user(EntityID(UInt64(2 + index))), .external(EmailAddress("x\(index)@out.test")!)], createdAt: time))
        }
        var delegations: [Delegation] = []
        for index in 0..<5_000 {
            delegations.append(Delegation(id: EntityID(UInt64(20_000 + index)), mailbox: EntityID(UInt64(2 + index)), delegate: index % 7 == 0 ? .group(EntityID(10_000)) : .user(EntityID(UInt64(3 + index))), permissions: PermissionSet([.read, .sendAs]), grantedBy: .system, grantedAt: time, expiresAt: index % 3 == 0 ? time.addingTimeInterval(3_600.5) : nil))
        }
        return DirectoryContents(
            organization: Organization(name: "Big", domains: [DomainName("big.test")!], createdAt: time),
            users: users, groups: groups, services: [], delegations: delegations,
            policies: [EmailPolicy(name: EmailPolicy.defaultName, mailboxDelegationAllowed: true)],
            spamSettings: SpamSettings(), auditLog: [], superAdministrator: EntityID(1), nextIdentity: 30_000, revision: 0
        )
    }

    @Test("the parallel codec, and its chunks on one thread, write the bytes of a single pass and read them back")
    func parallelMatchesSerial() throws {
        let document = SnapshotDocument(format: "deputy-snapshot", version: 1, sequence: 0, savedAt: StoreFixture.start, directory: Self.largeContents())
        let parallel = try SnapshotCodec.encode(document)
        #expect(parallel == (try StorageJSONEncoder(expandedDepth: SnapshotCodec.expandedDepth).encode(document)))
        #expect(try SnapshotCodec.encode(document, parallel: false) == parallel)
        let decoded = try SnapshotCodec.decode(parallel)
        #expect(decoded.directory == document.directory)
        #expect(decoded.savedAt == document.savedAt)
        #expect(try Directory(contents: decoded.directory).consistencyProblems().isEmpty)
    }

    @Test("a bad value deep in a long list is reported at its offset and path")
    func parallelFailureLocation() throws {
        let document = SnapshotDocument(format: "deputy-snapshot", version: 1, sequence: 0, savedAt: StoreFixture.start, directory: Self.largeContents())
        let text = String(decoding: try SnapshotCodec.encode(document), as: UTF8.self).replacingOccurrences(of: "\"a8000@big.test\"", with: "\"a8000@@big.test\"")
        let bytes = Array(text.utf8)
        do {
            _ = try SnapshotCodec.decode(bytes)
            Issue.record("a bad alias was accepted")
        } catch {
            #expect(error.offset == bytes.firstRange(of: Array("\"a8000@@".utf8))?.lowerBound)
            #expect(error.reason.hasPrefix("directory.users[7999].aliases[0]: "))
        }
    }

    @Test("a document that is not an object is refused with a reason, never read past its end", arguments: [
        "\"sequence \"", "[\"directory\"]", "42", "null", "{\"directory\": \"users\"}", "{\"directory\": {\"users\": 7}}",
    ])
    func notAnObject(_ text: String) {
        #expect(throws: StorageJSONDecoder.Failure.self) { try SnapshotCodec.decode(Array(text.utf8)) }
    }

    /// Entries using every field and every case the list reader knows.
    static func variedContents() -> DirectoryContents {
        let hash = StoreFixture.hash
        let time = StoreFixture.start
        let scrypt = PasswordHash(encoded: "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5")!
        var users = [User(id: EntityID(1), address: EmailAddress("boss@v.test")!, displayName: "Boss", role: .superAdministrator, passwordHash: hash, createdAt: time)]
        for index in 2...40 {
            users.append(User(
                id: EntityID(UInt64(index)), address: EmailAddress("U\(index)@V.test")!,
                aliases: index % 3 == 0 ? [] : [EmailAddress("a\(index)@v.test")!, EmailAddress("b\(index)@v.test")!],
                displayName: ["Zoë \"Z\" Ünal", "tab\there", "line\nbreak", "back\\slash", "日本語 名前", ""][index % 6],
                role: index == 5 ? .administrator : .user,
                customRoles: index % 4 == 0 ? [.helpdesk, .userManagement] : (index % 4 == 1 ? [.marketplaceDeveloper] : []),
                passwordHash: index % 2 == 0 ? hash : scrypt, blocked: index % 5 == 0,
                recoveryAddress: index % 3 == 1 ? EmailAddress("r\(index)@elsewhere.test") : nil,
                policy: index % 7 == 0 ? "strict" : nil,
                createdAt: time.addingTimeInterval(Double(index) * 0.125)
            ))
        }
        var groups: [Group] = []
        for index in 0..<6 {
            groups.append(Group(
                id: EntityID(UInt64(100 + index)), address: EmailAddress("g\(index)@v.test")!, name: "Group \"\(index)\"",
                kind: index % 2 == 0 ? .organization : .personal, owner: index % 2 == 0 ? nil : EntityID(UInt64(2 + index)),
                // Group 3 holds group 0: a nested group is a member of its own kind.
                members: index == 0 ? [] : TreeSet(
                    [.user(EntityID(UInt64(2 + index))), .user(EntityID(UInt64(10 + index))), .external(EmailAddress("x\(index)@out.test")!)]
                        + (index == 3 ? [GroupMember.group(EntityID(100))] : [])
                ),
                membersMaySendAs: index % 3 == 0, policy: index == 4 ? "strict" : nil, createdAt: time
            ))
        }
        let services = [ServiceAccount(id: EntityID(150), name: ServiceName("postfix")!, passwordHash: hash, createdAt: time)]
        let principals: [Principal] = [.system, .user(EntityID(1)), .service(EntityID(150))]
        let permissionSets: [PermissionSet] = [PermissionSet([.read]), PermissionSet([.manage]), PermissionSet([.sendAs, .sendOnBehalf]), PermissionSet(Permission.allCases)]
        var delegations: [Delegation] = []
        for index in 0..<30 {
            delegations.append(Delegation(
                id: EntityID(UInt64(200 + index)), mailbox: EntityID(UInt64(2 + index)),
                delegate: index % 4 == 0 ? .group(EntityID(UInt64(100 + index % 6))) : .user(EntityID(UInt64(3 + index))),
                permissions: permissionSets[index % 4], grantedBy: principals[index % 3],
                grantedAt: time.addingTimeInterval(Double(index)), expiresAt: index % 2 == 0 ? time.addingTimeInterval(86_400.25) : nil
            ))
        }
        let outcomes: [AuditRecord.Outcome] = [.applied, .refused(code: .notFound, rule: nil), .refused(code: .denied, rule: .singleSuperAdministrator)]
        let details: [String] = ["", "permissions=read,sendas", "name=\"Zoë\"\nline two\ttab", "\u{0001}control"]
        var auditLog: [AuditRecord] = []
        for sequence in 1...12 {
            let actor = sequence % 2 == 0 ? "boss@v.test" : "system"
            auditLog.append(AuditRecord(
                sequence: UInt64(sequence), time: time.addingTimeInterval(Double(sequence) * 0.001), actor: actor,
                actorPrincipal: principals[sequence % 3], action: "delegate", target: "u\(sequence)@v.test",
                detail: details[sequence % 4], outcome: outcomes[sequence % 3]
            ))
        }
        return DirectoryContents(
            organization: Organization(name: "V", domains: [DomainName("v.test")!], createdAt: time),
            users: users, groups: groups, services: services, delegations: delegations,
            policies: [EmailPolicy(name: EmailPolicy.defaultName, mailboxDelegationAllowed: true), EmailPolicy(name: "strict", mailboxDelegationAllowed: false)],
            spamSettings: SpamSettings(), auditLog: auditLog, superAdministrator: EntityID(1), nextIdentity: 300, revision: 12
        )
    }

    @Test("the list writer writes, and the list reader reads, every user, group, delegation and audit record exactly as Codable does")
    func listReaderMatchesCodable() throws {
        for contents in [Self.variedContents(), Self.largeContents()] {
            let document = SnapshotDocument(format: "deputy-snapshot", version: 1, sequence: 0, savedAt: StoreFixture.start, directory: contents)
            let bytes = try SnapshotCodec.encode(document)
            #expect(bytes == (try StorageJSONEncoder(expandedDepth: SnapshotCodec.expandedDepth).encode(document)))
            // Entry by entry too, so a writer that gave up (and left the work to Codable)
            // would fail here rather than pass unnoticed.
            try Self.expectWriterMatchesEncoder(contents.users) { $0.write($1) }
            try Self.expectWriterMatchesEncoder(contents.groups) { $0.write($1) }
            try Self.expectWriterMatchesEncoder(contents.delegations) { $0.write($1) }
            try Self.expectWriterMatchesEncoder(contents.auditLog) { $0.write($1) }
            let expected = try StorageJSONDecoder().decode(SnapshotDocument.self, from: bytes).directory
            #expect(expected == contents)
            let tape = try JSONTape(bytes)
            let reader = SnapshotListReader(tape: tape)
            // Reading every entry directly, so a reader that gave up (and left the work to
            // Codable) would fail here rather than pass unnoticed.
            #expect(try Self.elements("users", in: tape).map { try reader.user(at: $0) } == expected.users)
            #expect(try Self.elements("groups", in: tape).map { try reader.group(at: $0) } == expected.groups)
            #expect(try Self.elements("delegations", in: tape).map { try reader.delegation(at: $0) } == expected.delegations)
            #expect(try Self.elements("auditLog", in: tape).map { try reader.auditRecord(at: $0) } == expected.auditLog)
            #expect(try SnapshotCodec.decode(bytes).directory == expected)
        }
    }

    @Test("entries the list reader leaves to Codable decode, or fail, just as Codable alone makes them")
    func listReaderFallsBack() throws {
        let document = SnapshotDocument(format: "deputy-snapshot", version: 1, sequence: 0, savedAt: StoreFixture.start, directory: Self.variedContents())
        let text = String(decoding: try SnapshotCodec.encode(document), as: UTF8.self)
        let edits: [(String, String)] = [
            ("{\"address\":\"u7@v.test\",", "{\"nickname\":\"seven\",\"address\":\"u7@v.test\","),  // unknown key: Codable ignores it
            ("{\"address\":\"u8@v.test\",", "{\"address\":\"U8@V.TEST\",\"address\":\"u8@v.test\","),  // repeated key: the last wins
            ("\"grantedBy\":{\"system\":{}}", "\"grantedBy\":{\"system\":{\"ignored\":1}}"),
            ("{\"address\":\"u9@v.test\",", "{\"address\":\"u9@@v.test\","),  // a bad address: both refuse
            ("\"role\":\"admin\"", "\"role\":\"root\""),
            ("\"outcome\":{\"applied\":{}}", "\"outcome\":{\"applied\":{},\"refused\":{\"code\":\"x\"}}"),  // two cases: both refuse
            ("{\"refused\":{\"code\":\"notfound\"}}", "{\"refused\":{\"code\":\"notfound\",\"rule\":null}}"),
            ("{\"user\":{\"_0\":3}}]", "{\"user\":{\"_0\":3}},{\"user\":{\"_0\":3}}]"),  // a repeated member
        ]
        for (old, new) in edits {
            #expect(text.contains(old), "\(old)")
            let bytes = Array(text.replacingOccurrences(of: old, with: new).utf8)
            let codable = Result { try StorageJSONDecoder().decode(SnapshotDocument.self, from: bytes).directory }
            let codec = Result { try SnapshotCodec.decode(bytes).directory }
            switch (codable, codec) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(new)")
            case (.failure(let a as StorageJSONDecoder.Failure), .failure(let b as StorageJSONDecoder.Failure)): #expect(a.offset == b.offset && a.reason == b.reason, "\(new)")
            default: Issue.record("\(new): Codable gave \(codable), the codec \(codec)")
            }
        }
    }

    /// Each value written by the list writer alone gives the encoder's bytes for it.
    private static func expectWriterMatchesEncoder<T: Encodable>(_ values: [T], _ write: (SnapshotListWriter, T) -> Void) throws {
        for value in values {
            let output = JSONOutput(expandedDepth: 0)
            write(SnapshotListWriter(output: output), value)
            #expect(output.bytes == (try StorageJSONEncoder(expandedDepth: 0).encode(value)))
        }
    }

    private static func elements(_ key: String, in tape: JSONTape) throws -> [Int] {
        func member(_ name: String, of object: Int) -> Int? {
            var index = object + 1
            while index < Int(tape.tokens[object].end) {
                if tape.string(index, equals: name) { return index + 1 }
                index = tape.next(after: index + 1)
            }
            return nil
        }
        let list = try #require(member("directory", of: 0).flatMap { member(key, of: $0) })
        var elements: [Int] = []
        var index = list + 1
        while index < Int(tape.tokens[list].end) {
            elements.append(index)
            index = tape.next(after: index)
        }
        return elements
    }
}
