import DeputyCore
import Foundation
import Testing

@testable import DeputyStore

@Suite("Closing a store that has failed")
struct CloseAfterFailureTests {
    typealias F = StoreFixture

    @Test("the commits still queued are refused, not written into the journal the store no longer trusts")
    func queuedCommitsRefused() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 1)
        disk.closeSyncGate(for: F.journalPath)
        let outcomes = NameLog()
        await withTaskGroup(of: Void.self) { group in
            // A batch in flight at its fsync, and a commit queued behind it.
            group.addTask {
                do { _ = try await store.commit(F.addUser("first"), context: F.context()) } catch { outcomes.append("first refused") }
            }
            await F.waitUntil { disk.syncsWaitingAtGate == 1 }
            group.addTask {
                do {
                    _ = try await store.commit(F.addUser("second"), context: F.context(1))
                    outcomes.append("second acknowledged")
                } catch {
                    outcomes.append("second refused")
                }
            }
            await F.waitUntil { await store.queuedCommits == 1 }
            // The store fails (as when a journal cut's directory fsync fails), and the daemon
            // is told to stop before the batch in flight is done.
            await store.enterFailedState("a failure for the test")
            group.addTask { try? await store.close() }
            await F.waitUntil { await store.closeBegan }
            disk.openSyncGate()
        }
        #expect(outcomes.all == ["second refused"])
        let reopened = try await F.open(disk)
        #expect(!F.hasUser("second", in: reopened.directory))
    }
}
