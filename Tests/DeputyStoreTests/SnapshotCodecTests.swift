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

    @Test("the parallel codec writes the bytes of a single pass and reads them back")
    func parallelMatchesSerial() throws {
        let document = SnapshotDocument(format: "deputy-snapshot", version: 1, sequence: 0, savedAt: StoreFixture.start, directory: Self.largeContents())
        let parallel = try SnapshotCodec.encode(document)
        #expect(parallel == (try StorageJSONEncoder(expandedDepth: SnapshotCodec.expandedDepth).encode(document)))
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
}
