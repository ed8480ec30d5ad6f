import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Crash while replacing the snapshot")
struct SnapshotCrashTests {
    /// The steps of `snapshot()`: open the temporary snapshot, write, fsync, rename, fsync
    /// the directory, then the same five for the new journal; a few more to cut after the end.
    @Test("a crash after any step recovers the old or the new snapshot, and loses nothing", arguments: Array(0...12))
    func crashAfterStep(step: Int) async throws {
        for mode in [SimulatedFileSystem.PowerCutMode.dropUnsynced, .keepUnsyncedPrefix(seed: UInt64(step))] {
            let disk = SimulatedFileSystem()
            let store = try await StoreFixture.populated(disk, users: 3)
            let old = try await store.snapshot()
            for index in 3..<6 { try await StoreFixture.commitApplied(store, StoreFixture.addUser("u\(index)")) }
            let expected = store.directory
            let oldSnapshot = disk.durableContents(of: StoreFixture.snapshotPath)

            disk.cutPower(afterOperations: disk.statistics.operations + step, mode: mode)
            let new = try? await store.snapshot()
            if !disk.isDown { disk.powerCut(mode) }
            disk.restart()

            let snapshotOnDisk = disk.durableContents(of: StoreFixture.snapshotPath)
            let recovered = try await StoreFixture.open(disk)
            #expect(recovered.directory.contents == expected.contents, "step \(step), \(mode)")
            #expect([old.sequence, expected.revision].contains(recovered.recovery.snapshotSequence ?? 0))
            if recovered.recovery.snapshotSequence == old.sequence {
                #expect(snapshotOnDisk == oldSnapshot)
            }
            if let new {
                // A snapshot that returned is durable, and so is the journal cut.
                #expect(recovered.recovery.snapshotSequence == new.sequence)
                #expect(recovered.recovery.journalRecords == 0)
            }
            #expect(recovered.recovery.temporaryFiles.isEmpty || step > 0)
            #expect(disk.contents(of: StoreFixture.snapshotPath + ".tmp") == nil)
            #expect(disk.contents(of: StoreFixture.journalPath + ".tmp") == nil)
        }
    }

    @Test("commits made while a snapshot is written are carried into the new journal")
    func commitsDuringSnapshot() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 2)
        // Hold the snapshot's own fsync so that commits happen while it is in progress.
        disk.closeSyncGate(for: StoreFixture.snapshotPath + ".tmp")
        let snapshot = Task { try await store.snapshot() }
        await StoreFixture.waitUntil { disk.syncsWaitingAtGate == 1 }
        for index in 2..<6 { try await StoreFixture.commitApplied(store, StoreFixture.addUser("u\(index)")) }
        disk.openSyncGate()
        let summary = try await snapshot.value
        #expect(summary.sequence == 3)
        #expect(summary.carriedRecords == 4)
        let expected = store.directory
        disk.powerCut()
        let recovered = try await StoreFixture.open(disk)
        #expect(recovered.directory.contents == expected.contents)
        #expect(recovered.recovery.snapshotSequence == summary.sequence)
        #expect(recovered.recovery.journalRecords == summary.carriedRecords)
    }
}
