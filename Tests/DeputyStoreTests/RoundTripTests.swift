import DeputyCore
import DeputyStore
import Foundation
import Testing

@Suite("Round trip")
struct RoundTripTests {
    /// A mix of applied and refused commands touching most kinds of entry.
    static func commitMix(_ store: Store) async throws {
        typealias F = StoreFixture
        try await F.commitApplied(store, F.createOrganization)
        for name in ["alice", "bob", "carol", "dave"] {
            try await F.commitApplied(store, F.addUser(name), step: 1)
        }
        let boss = Principal.user(store.directory.user(at: F.address("boss"))!.id)
        let asBoss = CommandContext(actor: boss, time: F.start.addingTimeInterval(2.5))
        _ = try await store.commit(.setRole(F.address("alice"), .administrator), context: asBoss)
        _ = try await store.commit(.addGroup(NewGroup(address: F.address("team"), name: "Team", kind: .organization, members: [F.address("bob"), F.address("carol")])), context: asBoss)
        _ = try await store.commit(.delegate(NewDelegation(mailbox: F.address("bob"), delegate: F.address("carol"), permissions: PermissionSet([.read, .sendAs]), expiresAt: F.start.addingTimeInterval(86_400.75))), context: asBoss)
        _ = try await store.commit(.setBlocked(F.address("dave"), true), context: asBoss)
        _ = try await store.commit(.modifyUser(F.address("bob"), UserChanges(displayName: "Robert", addAliases: [F.address("rob")])), context: asBoss)
        // Refused: the address is taken. Refusals are journaled for the audit log.
        let refused = try await store.commit(F.addUser("alice"), context: asBoss)
        if case .success = refused.result { Issue.record("a duplicate address was accepted") }
        // Refused: a blocked account acts.
        let dave = Principal.user(store.directory.user(at: F.address("dave"))!.id)
        _ = try await store.commit(F.addUser("eve"), context: CommandContext(actor: dave, time: F.start.addingTimeInterval(3)))
    }

    /// A store on `disk` holding ``commitMix(_:)``.
    static func mixedStore(_ disk: SimulatedFileSystem) async throws -> Store {
        let store = try await StoreFixture.open(disk)
        try await commitMix(store)
        return store
    }

    @Test("a closed and reopened store holds the same directory, audit log included")
    func closeAndReopen() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.open(disk)
        try await Self.commitMix(store)
        let before = store.directory
        #expect(before.auditLog.all.contains { if case .refused = $0.outcome { true } else { false } })
        try await store.close()

        let reopened = try await StoreFixture.open(disk)
        #expect(reopened.directory.contents == before.contents)
        #expect(reopened.directory.consistencyProblems().isEmpty)
        #expect(reopened.recovery.snapshotSequence == before.revision)
        #expect(reopened.recovery.replayedRecords == 0)
    }

    @Test("a store reopened without closing replays its journal to the same directory")
    func replayWithoutClose() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.open(disk)
        try await Self.commitMix(store)
        let before = store.directory
        disk.powerCut()

        let reopened = try await StoreFixture.open(disk)
        #expect(reopened.recovery.snapshotSequence == nil)
        #expect(reopened.recovery.replayedRecords == Int(before.revision))
        #expect(reopened.directory.contents == before.contents)
        #expect(reopened.directory.auditLog.all == before.auditLog.all)
        #expect(reopened.directory.consistencyProblems().isEmpty)
    }

    @Test("snapshot then more commits: the snapshot and the journal's rest give the same directory")
    func snapshotThenJournal() async throws {
        let disk = SimulatedFileSystem()
        let store = try await StoreFixture.populated(disk, users: 5)
        let summary = try await store.snapshot()
        #expect(summary.sequence == 6)
        for index in 5..<9 { try await StoreFixture.commitApplied(store, StoreFixture.addUser("u\(index)")) }
        let before = store.directory
        disk.powerCut()

        let reopened = try await StoreFixture.open(disk)
        #expect(reopened.recovery.snapshotSequence == 6)
        #expect(reopened.recovery.replayedRecords == 4)
        #expect(reopened.directory.contents == before.contents)
    }

    @Test("the round trip works on the real file system")
    func realFileSystem() async throws {
        let path = try TemporaryDirectory.make()
        defer { TemporaryDirectory.remove(path) }
        let data = path + "/data"
        let store = try await StoreFixture.open(PosixFileSystem(), path: data)
        try await Self.commitMix(store)
        let afterCommits = store.directory
        // Reopen once from the journal, as after a crash, then once from the final snapshot.
        StoreFixture.abandon(store)
        let fromJournal = try await StoreFixture.open(PosixFileSystem(), path: data)
        #expect(fromJournal.directory.contents == afterCommits.contents)
        try await fromJournal.close()
        let fromSnapshot = try await StoreFixture.open(PosixFileSystem(), path: data)
        #expect(fromSnapshot.directory.contents == afterCommits.contents)
        #expect(fromSnapshot.recovery.replayedRecords == 0)
        #expect(fromSnapshot.directory.consistencyProblems().isEmpty)
        try await fromSnapshot.close()
    }

    @Test("a commit returns its sequence, and readers then see the directory at that revision")
    func commitOutcome() async throws {
        let store = try await StoreFixture.populated(SimulatedFileSystem(), users: 1)
        let outcome = try await StoreFixture.commitApplied(store, StoreFixture.addUser("zoe"))
        #expect(outcome.sequence == 3)
        #expect(store.live.directory.revision == 3)
        #expect(StoreFixture.hasUser("zoe", in: store.live.directory))
    }

    @Test("a closed store refuses commits")
    func closedRefuses() async throws {
        let store = try await StoreFixture.populated(SimulatedFileSystem(), users: 0)
        try await store.close()
        try await store.close()
        await #expect(throws: StoreError.self) { try await store.commit(StoreFixture.addUser("late"), context: StoreFixture.context()) }
        #expect(StoreFixture.hasUser("late", in: store.directory) == false)
    }
}
