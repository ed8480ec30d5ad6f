import DeputyCore
@testable import DeputyStore
import Foundation
import Testing

@Suite("Snapshot format")
struct SnapshotFormatTests {
    typealias F = StoreFixture

    @Test("saving the same directory twice gives byte-identical JSON")
    func stableBytes() async throws {
        let disk = SimulatedFileSystem()
        let store = try await RoundTripTests.mixedStore(disk)
        try await store.export(to: "/first.json")
        try await store.export(to: "/second.json")
        let first = try #require(disk.contents(of: "/first.json"))
        #expect(first == disk.contents(of: "/second.json"))
        try await store.snapshot()
        #expect(disk.contents(of: F.snapshotPath) == first)
    }

    @Test("the document has the format, version, sequence and time, with keys sorted at every level")
    func documentShape() async throws {
        let disk = SimulatedFileSystem()
        let store = try await RoundTripTests.mixedStore(disk)
        try await store.snapshot()
        let bytes = try #require(disk.contents(of: F.snapshotPath))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["format"] as? String == "deputy-snapshot")
        #expect(object["version"] as? Int == 1)
        #expect((object["sequence"] as? NSNumber)?.uint64Value == store.directory.revision)
        let savedAt = try #require(object["savedAt"] as? String)
        #expect(savedAt.hasPrefix("2027-01-15T08:00:00.123456") && savedAt.hasSuffix("Z"))
        #expect(try Self.keysAreSorted(in: bytes))
    }

    /// A program that reads only version 1 must not load a directory with an audit
    /// retention: it would read past the setting and keep records every other node drops.
    @Test("a directory with an audit retention is written as version 2, one without as version 1; a newer version is refused")
    func versionFollowsTheRetention() async throws {
        let disk = SimulatedFileSystem()
        var directory = try await RoundTripTests.mixedStore(disk).directory
        func version(_ bytes: [UInt8]) throws -> Int? {
            (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["version"] as? Int
        }
        #expect(try version(PortableSnapshot.encode(directory)) == 1)
        let boss = try #require(directory.superAdministrator)
        let time = Date(timeIntervalSince1970: 1_900_000_000)
        let set = directory.apply(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: 90)),
            context: CommandContext(actor: .user(boss), time: time, reauthenticatedAt: time)
        )
        #expect((try? set.get()) != nil, "\(set)")
        let bytes = try PortableSnapshot.encode(directory)
        #expect(try version(bytes) == 2)
        #expect(try PortableSnapshot.decode(bytes, source: "test").organization?.auditRetentionDays == 90)
        let newer = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: #""version": 2"#, with: #""version": 3"#).utf8)
        #expect(newer != bytes)
        #expect(throws: StoreError.self) { try PortableSnapshot.decode(newer, source: "test") }
    }

    /// Whether the keys of every object in `bytes` are in sorted order.
    static func keysAreSorted(in bytes: [UInt8]) throws -> Bool {
        let tape = try JSONTape(bytes)
        var objects = 0
        for index in tape.tokens.indices where tape.tokens[index].kind == .object {
            var keys: [String] = []
            var member = index + 1
            while member < Int(tape.tokens[index].end) {
                keys.append(tape.string(member))
                member = tape.next(after: member + 1)
            }
            if keys != keys.sorted() { return false }
            objects += 1
        }
        return objects > 10
    }

    @Test("each user, group, delegation and audit record is on its own line")
    func oneEntryPerLine() async throws {
        let disk = SimulatedFileSystem()
        let store = try await RoundTripTests.mixedStore(disk)
        try await store.snapshot()
        let lines = String(decoding: try #require(disk.contents(of: F.snapshotPath)), as: UTF8.self).split(separator: "\n")
        let directory = store.directory
        #expect(lines.filter { $0.hasPrefix("      {\"address\":") && $0.contains("\"passwordHash\":") }.count == directory.users.count)
        #expect(lines.filter { $0.hasPrefix("      {\"action\":") }.count == directory.auditLog.count)
        #expect(lines.first == "{")
        #expect(lines.last == "}")
    }

    @Test("timestamps come back exactly, and whole seconds read plainly")
    func exactTimestamps() async throws {
        let disk = SimulatedFileSystem()
        let times = [
            Date(timeIntervalSince1970: 1_800_000_000), Date(timeIntervalSince1970: 1_800_000_000.5),
            Date(timeIntervalSince1970: 1_800_000_000.123_456_789), Date(timeIntervalSinceReferenceDate: -0.25),
            Date(timeIntervalSince1970: 0.000_001), Date(timeIntervalSinceReferenceDate: 1e-7),
        ]
        let store = try await F.open(disk)
        try await F.commitApplied(store, F.createOrganization)
        for (index, time) in times.enumerated() {
            _ = try await store.commit(F.addUser("t\(index)"), context: CommandContext(actor: .system, time: time))
        }
        let expected = store.directory
        try await store.export(to: "/export.json")
        let text = String(decoding: try #require(disk.contents(of: "/export.json")), as: UTF8.self)
        #expect(text.contains("\"2027-01-15T08:00:00Z\""))
        #expect(text.contains("\"2027-01-15T08:00:00.5Z\""))
        disk.powerCut()
        let fromJournal = try await F.open(disk)
        #expect(fromJournal.directory.contents == expected.contents)
        try await fromJournal.close()
        let fromSnapshot = try await F.open(disk)
        #expect(fromSnapshot.directory.contents == expected.contents)
    }
}
