import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Power loss")
struct PowerLossTests {
    static let modes: [SimulatedFileSystem.PowerCutMode] = [.dropUnsynced, .keepUnsyncedPrefix(seed: 0x5EED), .zeroUnsynced]

    /// Eight writers add six users each while two snapshots are taken, and power is cut
    /// right after the `cutAfter`-th file operation. Whatever was acknowledged must be
    /// there after recovery, and the directory must be sound.
    @Test("every acknowledged commit survives a power cut after any operation", arguments: Array(1...100))
    func powerCut(cutAfter: Int) async throws {
        for mode in Self.modes {
            let disk = SimulatedFileSystem()
            let store = try await StoreFixture.populated(disk, users: 0)
            disk.cutPower(afterOperations: disk.statistics.operations + cutAfter, mode: mode)
            let acknowledged = NameLog()
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for round in 0..<6 {
                            let name = "w\(writer)r\(round)"
                            guard let outcome = try? await store.commit(StoreFixture.addUser(name), context: StoreFixture.context(round)) else { return }
                            if case .success = outcome.result { acknowledged.append(name) }
                        }
                    }
                }
                group.addTask {
                    for threshold in [12, 30] {
                        await StoreFixture.waitUntil {
                            let records = await store.currentStatistics.records
                            let failed = await store.isFailed
                            return records >= threshold || failed
                        }
                        _ = try? await store.snapshot()
                    }
                }
            }
            let crashed = disk.isDown
            // The workload makes more than twenty changing operations, so early cuts hit it.
            #expect(crashed || cutAfter > 20)
            if !crashed { disk.powerCut(mode) }
            disk.restart()

            let recovered = try await StoreFixture.open(disk)
            for name in acknowledged.all {
                #expect(StoreFixture.hasUser(name, in: recovered.directory), "lost \(name) after a cut at operation \(cutAfter), \(mode)")
            }
            #expect(recovered.directory.revision >= UInt64(acknowledged.all.count + 1))
            #expect(recovered.directory.consistencyProblems().isEmpty)
            // Recovery leaves a journal that the next start reads without repairs.
            disk.powerCut()
            let again = try await StoreFixture.open(disk)
            #expect(again.recovery.tornTail == nil)
            #expect(again.directory.contents == recovered.directory.contents)
        }
    }
}
