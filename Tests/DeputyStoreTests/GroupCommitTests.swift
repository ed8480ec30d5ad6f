import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    @Test("50 concurrent commits share fsyncs, and every one is durable")
    func concurrentCommitsShareFsyncs() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 0)
        let syncsBefore = disk.statistics.fileSyncs
        let published = store.directory

        // Hold the first batch's fsync so that the other commits queue behind it.
        disk.closeSyncGate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { try await StoreFixture.commitApplied(store, StoreFixture.addUser("c\(index)")) }
            }
            await StoreFixture.waitUntil { disk.syncsWaitingAtGate == 1 }
            await StoreFixture.waitUntil { await store.queuedCommits == 49 }
            // Nothing is published while the records wait for the disk.
            #expect(store.directory.contents == published.contents)
            disk.openSyncGate()
            try await group.waitForAll()
        }

        #expect(disk.statistics.fileSyncs - syncsBefore == 2)
        #expect(await store.currentStatistics.records == 51)
        for index in 0..<50 { #expect(StoreFixture.hasUser("c\(index)", in: store.directory)) }

        disk.powerCut()
        let reopened = try await StoreFixture.open(disk)
        for index in 0..<50 { #expect(StoreFixture.hasUser("c\(index)", in: reopened.directory)) }
        #expect(reopened.directory.contents == store.directory.contents)
    }

    @Test("a batch publishes the directory after its own commands, not after those prepared while it was written")
    func batchPublishesItsOwnCommands() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 0)
        let before = store.directory.revision

        disk.closeSyncGate()
        // Whatever fails below, nothing stays blocked at the gate.
        defer { disk.openSyncGate() }
        let first = Task { try await StoreFixture.commitApplied(store, StoreFixture.addUser("first")) }
        await StoreFixture.waitUntil { disk.syncsWaitingAtGate == 1 }
        // These are applied to the newest directory while the first batch waits for the disk.
        let queued = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<5 {
                    group.addTask { try await StoreFixture.commitApplied(store, StoreFixture.addUser("q\(index)")) }
                }
                try await group.waitForAll()
            }
        }
        await StoreFixture.waitUntil { await store.queuedCommits == 5 }

        disk.letOneSyncThrough()
        let outcome = try await first.value
        #expect(outcome.sequence == before + 1)
        // The second batch now waits at the gate; readers see the first batch exactly.
        await StoreFixture.waitUntil { disk.syncsWaitingAtGate == 1 }
        #expect(store.directory.revision == before + 1)
        #expect(StoreFixture.hasUser("first", in: store.directory))
        for index in 0..<5 { #expect(!StoreFixture.hasUser("q\(index)", in: store.directory)) }

        disk.openSyncGate()
        try await queued.value
        #expect(store.directory.revision == before + 6)
        for index in 0..<5 { #expect(StoreFixture.hasUser("q\(index)", in: store.directory)) }
        disk.powerCut()
        let reopened = try await StoreFixture.open(disk)
        #expect(reopened.directory.contents == store.directory.contents)
    }

    @Test("concurrent commits on the real file system are all durable and in one order")
    func realFileSystemConcurrency() async throws {
        let path = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(path) }
        let data = path + "/data"
        let real = try await StoreFixture.open(PosixFileSystem(), path: data)
        try await StoreFixture.commitApplied(real, StoreFixture.createOrganization)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { try await StoreFixture.commitApplied(real, StoreFixture.addUser("r\(index)")) }
            }
            try await group.waitForAll()
        }
        let statistics = await real.currentStatistics
        #expect(statistics.records == 51)
        StoreFixture.abandon(real)
        let reopened = try await StoreFixture.open(PosixFileSystem(), path: data)
        #expect(reopened.directory.contents == real.directory.contents)
        #expect(reopened.directory.revision == 51)
    }
}
