import DeputyCore
import DeputyStore
import Foundation
import Synchronization
import Testing

@Suite("Snapshot schedule")
struct SnapshotScheduleTests {
    typealias F = StoreFixture

    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let current = Mutex(F.start)
        var now: Date { current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test("a snapshot is due after the configured number of records")
    func byRecords() async throws {
        let clock = ManualClock()
        let configuration = StoreConfiguration(snapshotEveryRecords: 3, snapshotEverySeconds: 3_600, now: { clock.now })
        let disk = SimulatedFileSystem()
        let store = try await F.open(disk, configuration: configuration)
        try await F.commitApplied(store, F.createOrganization)
        try await F.commitApplied(store, F.addUser("a"))
        #expect(try await store.snapshotIfDue() == nil)
        try await F.commitApplied(store, F.addUser("b"))
        let summary = try await store.snapshotIfDue()
        #expect(summary?.sequence == 3)
        #expect(try await store.snapshotIfDue() == nil)
        #expect(disk.contents(of: F.journalPath)?.isEmpty == true)
    }

    @Test("a snapshot is due after the configured time when something was journaled")
    func byTime() async throws {
        let clock = ManualClock()
        let configuration = StoreConfiguration(snapshotEveryRecords: 1_000, snapshotEverySeconds: 60, now: { clock.now })
        let store = try await F.open(SimulatedFileSystem(), configuration: configuration)
        clock.advance(120)
        // Time alone, with nothing journaled, makes no snapshot.
        #expect(try await store.snapshotIfDue() == nil)
        try await store.snapshot()
        try await F.commitApplied(store, F.createOrganization)
        clock.advance(59)
        #expect(try await store.snapshotIfDue() == nil)
        clock.advance(1)
        #expect(try await store.snapshotIfDue()?.sequence == 1)
        clock.advance(60)
        #expect(try await store.snapshotIfDue() == nil)
    }
}
