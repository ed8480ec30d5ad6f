import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("check, export and import")
struct ToolTests {
    typealias F = StoreFixture

    @Test("check reports a healthy directory without changing it")
    func checkHealthy() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 3)
        try await store.snapshot()
        try await F.commitApplied(store, F.addUser("u3"))
        let journal = disk.contents(of: F.journalPath)

        let report = Store.check(path: F.dataPath, fileSystem: disk)
        #expect(report.isHealthy)
        #expect(report.recovery?.snapshotSequence == 4)
        #expect(report.recovery?.journalRecords == 1)
        #expect(report.recovery?.lastSequence == 5)
        #expect(report.recovery?.tornTail == nil)
        #expect(report.counts?.users == 5)
        #expect(report.journalBytes == journal?.count)
        #expect(disk.contents(of: F.journalPath) == journal)
    }

    @Test("check reports a torn tail without cutting it, and a damaged record as a problem")
    func checkDamage() async throws {
        let disk = SimulatedFileSystem()
        _ = try await F.populated(disk, users: 3)
        var journal = disk.contents(of: F.journalPath)!
        disk.setContents(of: F.journalPath, to: journal + [1, 2, 3])
        let torn = Store.check(path: F.dataPath, fileSystem: disk)
        #expect(torn.isHealthy)
        #expect(torn.recovery?.tornTail?.offset == journal.count)
        #expect(torn.warnings.count == 1)
        #expect(disk.contents(of: F.journalPath)?.count == journal.count + 3)

        journal[40] ^= 1
        disk.setContents(of: F.journalPath, to: journal)
        let damaged = Store.check(path: F.dataPath, fileSystem: disk)
        #expect(!damaged.isHealthy)
        #expect(damaged.problems.first?.contains("\(F.journalPath) at byte 0") == true)
    }

    @Test("check reports a missing data directory")
    func checkMissing() {
        let report = Store.check(path: "/nowhere", fileSystem: SimulatedFileSystem())
        #expect(!report.isHealthy)
        #expect(report.problems.first?.contains("/nowhere") == true)
    }

    @Test("export then import into an empty data directory gives the same directory")
    func exportImport() async throws {
        let disk = SimulatedFileSystem()
        let store = try await RoundTripTests.mixedStore(disk)
        let expected = store.directory
        let exported = try Store.export(dataDirectory: F.dataPath, to: "/export.json", fileSystem: disk)
        #expect(exported.sequence == expected.revision)
        #expect(exported.counts == DirectoryCounts(expected))

        let dryRun = try Store.importSnapshot(from: "/export.json", into: "/imported", dryRun: true, fileSystem: disk)
        #expect(dryRun.counts == DirectoryCounts(expected))
        #expect(dryRun.dryRun)
        #expect((try disk.info("/imported")) == nil)

        try Store.importSnapshot(from: "/export.json", into: "/imported", dryRun: false, fileSystem: disk)
        let imported = try await F.open(disk, path: "/imported")
        #expect(imported.directory.contents == expected.contents)
        #expect(imported.recovery.snapshotSequence == expected.revision)
        // The imported directory takes commits that follow its revision.
        let outcome = try await F.commitApplied(imported, F.addUser("new"))
        #expect(outcome.sequence == expected.revision + 1)
    }

    @Test("import refuses a data directory that already holds a directory")
    func importIntoOccupied() async throws {
        let disk = SimulatedFileSystem()
        _ = try await F.populated(disk, users: 1)
        try Store.export(dataDirectory: F.dataPath, to: "/export.json", fileSystem: disk)
        let journal = disk.contents(of: F.journalPath)
        #expect {
            try Store.importSnapshot(from: "/export.json", into: F.dataPath, dryRun: false, fileSystem: disk)
        } throws: { ($0 as? StoreError)?.code == .notEmpty }
        #expect(disk.contents(of: F.journalPath) == journal)
        #expect(disk.contents(of: F.snapshotPath) == nil)
    }

    @Test("import refuses a file that is not a valid directory, saying where")
    func importInvalid() async throws {
        let disk = SimulatedFileSystem()
        _ = try await F.populated(disk, users: 2)
        try Store.export(dataDirectory: F.dataPath, to: "/export.json", fileSystem: disk)
        let text = String(decoding: disk.contents(of: "/export.json")!, as: UTF8.self)

        disk.setContents(of: "/bad-json.json", to: Array(text.utf8.prefix(100)))
        #expect {
            try Store.importSnapshot(from: "/bad-json.json", into: "/imported", dryRun: true, fileSystem: disk)
        } throws: { ($0 as? StoreError)?.code == .invalidImport && ($0 as? StoreError)?.offset == 100 }

        // Two users with one address: valid JSON, broken invariant.
        let duplicate = text.replacingOccurrences(of: "\"u1@acme.test\"", with: "\"u0@acme.test\"")
        disk.setContents(of: "/duplicate.json", to: Array(duplicate.utf8))
        #expect {
            try Store.importSnapshot(from: "/duplicate.json", into: "/imported", dryRun: true, fileSystem: disk)
        } throws: { ($0 as? StoreError)?.code == .invalidImport && ($0 as? StoreError)?.message.contains("used twice") == true }

        disk.setContents(of: "/other.json", to: Array(#"{"format":"something-else","version":1}"#.utf8))
        #expect {
            try Store.importSnapshot(from: "/other.json", into: "/imported", dryRun: true, fileSystem: disk)
        } throws: { ($0 as? StoreError)?.message.contains("not a Deputy snapshot") == true }
        #expect((try disk.info("/imported")) == nil)
    }
}
