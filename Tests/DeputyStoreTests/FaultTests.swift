import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Disk full and failed fsync")
struct FaultTests {
    typealias F = StoreFixture

    @Test("disk full on the journal write: the change is refused, nothing is published, the next commit works")
    func diskFull() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        let before = store.directory
        let journalBefore = disk.contents(of: F.journalPath)

        disk.failNextWrite(to: F.journalPath, with: .noSpace)
        await #expect {
            _ = try await store.commit(F.addUser("full"), context: F.context())
        } throws: { error in
            (error as? StoreError)?.code == .storage && (error as? StoreError)?.message.contains("no space left on device") == true
        }
        #expect(store.directory.contents == before.contents)
        #expect(store.live.directory.contents == before.contents)
        #expect(disk.contents(of: F.journalPath) == journalBefore)
        #expect(await store.isFailed == false)

        try await F.commitApplied(store, F.addUser("later"))
        disk.powerCut()
        let recovered = try await F.open(disk)
        #expect(!F.hasUser("full", in: recovered.directory))
        #expect(F.hasUser("later", in: recovered.directory))
        #expect(recovered.recovery.tornTail == nil)
    }

    @Test("a write torn after some bytes is cut back, and nothing of it survives")
    func tornWrite() async throws {
        for afterBytes in [1, 20, 31, 32, 100] {
            let disk = SimulatedFileSystem()
            let store = try await F.populated(disk, users: 1)
            let journalBefore = disk.contents(of: F.journalPath)
            disk.failNextWrite(to: F.journalPath, with: .inputOutput, afterBytes: afterBytes)
            await #expect(throws: StoreError.self) { try await store.commit(F.addUser("torn"), context: F.context()) }
            #expect(disk.durableContents(of: F.journalPath) == journalBefore)
            try await F.commitApplied(store, F.addUser("next"))
            F.abandon(store)
            let recovered = try await F.open(disk)
            #expect(!F.hasUser("torn", in: recovered.directory))
            #expect(F.hasUser("next", in: recovered.directory))
        }
    }

    @Test("a failed fsync refuses the change, keeps reads working, and refuses every later commit")
    func failedFsync() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        let before = store.directory

        disk.failNextSync(of: F.journalPath, with: .inputOutput)
        await #expect(throws: StoreError.self) { try await store.commit(F.addUser("lost"), context: F.context()) }
        #expect(store.directory.contents == before.contents)
        #expect(await store.isFailed)
        // Reads keep working on the published directory.
        #expect(store.directory.user(at: F.address("u1")) != nil)
        #expect(store.directory.sendAs(login: "u1@acme.test", address: "u1@acme.test", at: F.start).allowed)

        // The file system works again, but the store does not trust its journal.
        await #expect {
            _ = try await store.commit(F.addUser("retry"), context: F.context())
        } throws: { error in
            (error as? StoreError)?.code == .storage && (error as? StoreError)?.message.contains("restart") == true
        }
        await #expect(throws: StoreError.self) { try await store.snapshot() }
        #expect(store.directory.contents == before.contents)
        try await store.close()

        disk.powerCut()
        let recovered = try await F.open(disk)
        #expect(recovered.directory.contents == before.contents)
        try await F.commitApplied(recovered, F.addUser("fresh"))
    }

    @Test("a batch whose fsync fails is cut from the journal: a restart does not bring back what its clients were told was not made")
    func failedFsyncIsCutBack() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        let before = store.directory
        disk.failNextSync(of: F.journalPath, with: .inputOutput)
        await #expect {
            _ = try await store.commit(F.addUser("lost"), context: F.context())
        } throws: { error in
            (error as? StoreError)?.code == .storage
        }
        // A restart of the process, not of the machine: the kernel still holds every byte written.
        F.abandon(store)
        let reopened = try await F.open(disk)
        #expect(!F.hasUser("lost", in: reopened.directory))
        #expect(reopened.directory.contents == before.contents)
        try await F.commitApplied(reopened, F.addUser("fresh"))
    }

    @Test("a batch whose fsync fails and whose cut-back can't be made durable has an unknown outcome, and says so")
    func failedFsyncAndCutBack() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        disk.failNextSync(of: F.journalPath, with: .inputOutput)
        disk.failNextSync(of: F.journalPath, with: .inputOutput)
        await #expect {
            _ = try await store.commit(F.addUser("unknown"), context: F.context())
        } throws: { error in
            (error as? StoreError)?.code == .outcomeUnknown
        }
        #expect(await store.isFailed)
        #expect(!F.hasUser("unknown", in: store.directory))
        try await store.close()
    }

    @Test("a journal whose name never became durable (a crash between creating it and syncing its directory) is made durable when it is next opened")
    func journalNameMadeDurableAtOpen() async throws {
        let disk = SimulatedFileSystem()
        try disk.createDirectory(F.dataPath, permissions: 0o700)
        let created = try disk.openForAppend(F.journalPath, truncating: false)
        disk.close(created)
        let store = try await F.open(disk)
        try await F.commitApplied(store, F.createOrganization)
        try await F.commitApplied(store, F.addUser("kept"), step: 1)
        disk.powerCut()
        F.abandon(store)
        let reopened = try await F.open(disk)
        #expect(F.hasUser("kept", in: reopened.directory))
    }

    @Test("a journal that ends before the snapshot (an older one put back) is emptied at open, so that what is appended next reads back")
    func journalEndingBeforeTheSnapshot() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        let early = try disk.readFile(F.journalPath)
        try await F.commitApplied(store, F.addUser("late"), step: 10)
        _ = try await store.snapshot()
        try await store.close()
        let handle = try disk.openForAppend(F.journalPath, truncating: true)
        try disk.write(early, to: handle)
        try disk.sync(handle)
        disk.close(handle)

        let reopened = try await F.open(disk)
        #expect(reopened.recovery.journalEndsBeforeSnapshot == 3)
        #expect(F.hasUser("late", in: reopened.directory))
        try await F.commitApplied(reopened, F.addUser("after"), step: 11)
        F.abandon(reopened)
        let again = try await F.open(disk)
        #expect(F.hasUser("late", in: again.directory))
        #expect(F.hasUser("after", in: again.directory))
    }

    @Test("commits queued behind a batch whose fsync fails are refused too, and none is published")
    func queuedBehindFailure() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 1)
        let before = store.directory
        disk.failNextSync(of: F.journalPath)
        disk.closeSyncGate(for: F.journalPath)
        let refused = NameLog()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { _ = try await store.commit(F.addUser("first"), context: F.context()) } catch { refused.append("first") }
            }
            await F.waitUntil { disk.syncsWaitingAtGate == 1 }
            for name in ["second", "third"] {
                group.addTask {
                    do { _ = try await store.commit(F.addUser(name), context: F.context()) } catch { refused.append(name) }
                }
            }
            await F.waitUntil { await store.queuedCommits == 2 }
            disk.openSyncGate()
        }
        #expect(Set(refused.all) == ["first", "second", "third"])
        #expect(store.directory.contents == before.contents)
    }

    @Test("a failed journal write refuses its batch, and the commands applied for it are taken back before the next")
    func failedWriteTakesBackItsBatch() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 1)
        let before = store.directory.revision
        disk.closeSyncGate(for: F.journalPath)
        defer { disk.openSyncGate() }
        let first = Task { try await F.commitApplied(store, F.addUser("first")) }
        await F.waitUntil { disk.syncsWaitingAtGate == 1 }
        // The first batch is written and waits for its fsync; the next write fails.
        disk.failNextWrite(to: F.journalPath, with: .noSpace)
        let refused = NameLog()
        let queued = Task {
            await withTaskGroup(of: Void.self) { group in
                for name in ["second", "third"] {
                    group.addTask {
                        do { _ = try await store.commit(F.addUser(name), context: F.context()) } catch { refused.append(name) }
                    }
                }
            }
        }
        // Both are applied to the newest directory, in place, behind the first.
        await F.waitUntil { await store.queuedCommits == 2 }
        disk.openSyncGate()
        #expect(try await first.value.sequence == before + 1)
        await queued.value
        #expect(Set(refused.all) == ["second", "third"])
        #expect(await store.isFailed == false)

        // The store goes on from the first batch: the refused commands are gone, and their
        // sequences are given again.
        let next = try await F.commitApplied(store, F.addUser("fourth"))
        #expect(next.sequence == before + 2)
        #expect(F.hasUser("first", in: store.directory) && F.hasUser("fourth", in: store.directory))
        #expect(!F.hasUser("second", in: store.directory) && !F.hasUser("third", in: store.directory))
        disk.powerCut()
        let reopened = try await F.open(disk)
        #expect(reopened.directory.contents == store.directory.contents)
    }

    @Test("a snapshot that fails to write leaves the store open and the old snapshot in place")
    func snapshotWriteFailure() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        try await store.snapshot()
        let oldSnapshot = disk.contents(of: F.snapshotPath)
        try await F.commitApplied(store, F.addUser("u2"))

        disk.failNextWrite(to: F.snapshotPath + ".tmp", with: .noSpace)
        await #expect(throws: StoreError.self) { try await store.snapshot() }
        disk.failNextSync(of: F.snapshotPath + ".tmp")
        await #expect(throws: StoreError.self) { try await store.snapshot() }
        #expect(disk.contents(of: F.snapshotPath) == oldSnapshot)
        #expect(disk.contents(of: F.snapshotPath + ".tmp") == nil)
        #expect(await store.isFailed == false)

        try await F.commitApplied(store, F.addUser("u3"))
        let expected = store.directory
        disk.powerCut()
        let recovered = try await F.open(disk)
        #expect(recovered.directory.contents == expected.contents)
    }

    @Test("the journal cut failing before its rename leaves the old journal in use and the store open")
    func journalCutFailureBeforeRename() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        disk.failNextRename(to: F.journalPath)
        await #expect(throws: StoreError.self) { try await store.snapshot() }
        #expect(await store.isFailed == false)
        try await F.commitApplied(store, F.addUser("after"))
        let expected = store.directory
        disk.powerCut()
        let recovered = try await F.open(disk)
        #expect(recovered.directory.contents == expected.contents)
        #expect(recovered.recovery.snapshotSequence == 3)
    }

    @Test("a directory fsync failing after the new journal's rename stops the store")
    func journalCutDirectorySyncFailure() async throws {
        let disk = SimulatedFileSystem()
        let store = try await F.populated(disk, users: 2)
        let expected = store.directory
        // Let the snapshot's own directory fsync pass, then fail the journal cut's.
        disk.closeSyncGate(for: F.journalPath + ".tmp")
        let snapshot = Task { try await store.snapshot() }
        await F.waitUntil { disk.syncsWaitingAtGate == 1 }
        disk.failNextDirectorySync(of: F.dataPath)
        disk.openSyncGate()
        await #expect(throws: StoreError.self) { try await snapshot.value }
        #expect(await store.isFailed)
        await #expect(throws: StoreError.self) { try await store.commit(F.addUser("after"), context: F.context()) }
        #expect(store.directory.contents == expected.contents)

        disk.powerCut()
        let recovered = try await F.open(disk)
        #expect(recovered.directory.contents == expected.contents)
    }
}
