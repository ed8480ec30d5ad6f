import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Torn and damaged journals")
struct JournalDamageTests {
    typealias F = StoreFixture

    /// A journal of five records (the organisation, users u0 to u3), each its own write,
    /// with the offset where each record ends and the directory after each record
    /// (`directories[0]` is the empty directory).
    static func journal() async throws -> (bytes: [UInt8], ends: [Int], directories: [Directory]) {
        let disk = SimulatedFileSystem()
        let store = try await F.open(disk)
        var ends: [Int] = []
        var directories = [store.directory]
        let commands = [F.createOrganization] + (0..<4).map { F.addUser("u\($0)") }
        for (step, command) in commands.enumerated() {
            try await F.commitApplied(store, command, step: step)
            ends.append(disk.contents(of: F.journalPath)!.count)
            // One commit at a time: the store publishes each before the next begins.
            directories.append(store.directory)
        }
        return (disk.contents(of: F.journalPath)!, ends, directories)
    }

    /// A simulated disk holding `journal` (and `snapshot`) in the data directory.
    static func disk(journal: [UInt8], snapshot: [UInt8]? = nil) throws -> SimulatedFileSystem {
        let disk = SimulatedFileSystem()
        try disk.createDirectory(F.dataPath, permissions: 0o700)
        disk.setContents(of: F.journalPath, to: journal)
        if let snapshot { disk.setContents(of: F.snapshotPath, to: snapshot) }
        return disk
    }

    @Test("a journal cut at any byte of its last two records recovers exactly the intact records and cuts the rest")
    func cutAtEveryByte() async throws {
        let (bytes, ends, directories) = try await Self.journal()
        for length in ends[ends.count - 3]...ends[ends.count - 1] {
            let disk = try Self.disk(journal: Array(bytes[..<length]))
            let store = try await F.open(disk)
            let intact = ends.filter { $0 <= length }.count
            let intactLength = ends[intact - 1]
            #expect(store.directory.contents == directories[intact].contents, "cut at \(length)")
            #expect(store.recovery.replayedRecords == intact)
            #expect(disk.contents(of: F.journalPath)?.count == intactLength)
            #expect(disk.durableContents(of: F.journalPath) == Array(bytes[..<intactLength]))
            #expect((store.recovery.tornTail != nil) == (length != intactLength))
            #expect(store.recovery.tornTail?.offset ?? intactLength == intactLength)
            // What follows the cut is appended where the intact records end.
            try await F.commitApplied(store, F.addUser("after"))
            disk.powerCut()
            let reopened = try await F.open(disk)
            #expect(F.hasUser("after", in: reopened.directory))
            #expect(reopened.recovery.tornTail == nil)
        }
    }

    @Test("a byte flipped anywhere in the middle record stops recovery at that record's offset and changes nothing")
    func flippedByteInTheMiddle() async throws {
        let (bytes, ends, _) = try await Self.journal()
        let start = ends[1]
        for position in start..<ends[2] {
            var damaged = bytes
            damaged[position] ^= 0xFF
            let disk = try Self.disk(journal: damaged)
            do {
                _ = try await F.open(disk)
                Issue.record("recovery accepted a journal with byte \(position) flipped")
            } catch let error as StoreError {
                #expect(error.code == .corruptJournal)
                #expect(error.path == F.journalPath)
                #expect(error.offset == start)
                #expect(error.message.contains("\(F.journalPath) at byte \(start)"))
            } catch {
                Issue.record("unexpected error \(error)")
            }
            #expect(disk.contents(of: F.journalPath) == damaged)
            #expect(disk.contents(of: F.snapshotPath) == nil)
        }
    }

    @Test("a missing record is a gap that stops recovery")
    func sequenceGap() async throws {
        let (bytes, ends, _) = try await Self.journal()
        let withoutThird = Array(bytes[..<ends[1]] + bytes[ends[2]...])
        let disk = try Self.disk(journal: withoutThird)
        await #expect {
            _ = try await F.open(disk)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .corruptJournal && error?.offset == ends[1] && error?.message.contains("follows record 2") == true
        }
        #expect(disk.contents(of: F.journalPath) == withoutThird)
    }

    @Test("zeros after the last record, as a power cut can leave, are cut off")
    func zeroTail() async throws {
        let (bytes, _, directories) = try await Self.journal()
        let disk = try Self.disk(journal: bytes + [UInt8](repeating: 0, count: 4_096))
        let store = try await F.open(disk)
        #expect(store.directory.contents == directories.last!.contents)
        #expect(store.recovery.tornTail?.offset == bytes.count)
        #expect(store.recovery.tornTail?.length == 4_096)
        #expect(disk.contents(of: F.journalPath) == bytes)
    }

    @Test("damage inside the last write, even with intact records of that write after it, is a torn write")
    func damageInsideTheLastWrite() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 1)
        let beforeBatch = disk.contents(of: F.journalPath)!.count
        let published = store.directory
        disk.closeSyncGate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await F.commitApplied(store, F.addUser("first")) }
            await F.waitUntil { disk.syncsWaitingAtGate == 1 }
            for name in ["x", "y", "z"] { group.addTask { try await F.commitApplied(store, F.addUser(name)) } }
            await F.waitUntil { await store.queuedCommits == 3 }
            disk.openSyncGate()
            try await group.waitForAll()
        }
        // The last write holds three records; zero the middle of it, as pages that never
        // reached the disk would read.
        var bytes = disk.contents(of: F.journalPath)!
        let lastWrite = bytes.count - (bytes.count - beforeBatch) / 2
        let middle = lastWrite + (bytes.count - lastWrite) / 2
        for index in (middle - 10)..<(middle + 10) { bytes[index] = 0 }
        let damaged = try Self.disk(journal: bytes)
        let recovered = try await F.open(damaged)
        #expect(recovered.recovery.tornTail != nil)
        #expect(F.hasUser("first", in: recovered.directory))
        #expect(!F.hasUser("z", in: recovered.directory))
        #expect(recovered.directory.revision >= published.revision + 1)
        #expect(recovered.directory.consistencyProblems().isEmpty)
    }

    @Test("a snapshot that does not parse stops recovery with its byte offset, and changes nothing")
    func brokenSnapshot() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 2)
        try await store.close()
        let snapshot = disk.contents(of: F.snapshotPath)!
        let journal = disk.contents(of: F.journalPath)!

        let truncated = Array(snapshot[..<(snapshot.count / 2)])
        let first = try Self.disk(journal: journal, snapshot: truncated)
        await #expect {
            _ = try await F.open(first)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .corruptSnapshot && error?.offset == truncated.count && error?.message.contains(F.snapshotPath) == true
        }
        #expect(first.contents(of: F.snapshotPath) == truncated)

        // Valid JSON, but not a valid address: the offset is the value's.
        // The users come last in the document, so the last occurrence is u1's address.
        let text = String(decoding: snapshot, as: UTF8.self).replacingOccurrences(of: "\"u1@acme.test\"", with: "\"u1@@acme.test\"")
        let broken = Array(text.utf8)
        let offset = text.utf8.distance(from: text.startIndex, to: text.range(of: "\"u1@@acme.test\"", options: .backwards)!.lowerBound)
        let second = try Self.disk(journal: journal, snapshot: broken)
        await #expect {
            _ = try await F.open(second)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .corruptSnapshot && error?.offset == offset && error?.message.contains("address") == true
        }
        #expect(second.contents(of: F.snapshotPath) == broken)
    }
}
