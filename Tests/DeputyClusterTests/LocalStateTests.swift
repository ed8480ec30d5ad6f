@testable import DeputyCluster
import DeputyCore
import DeputyStore
import Foundation
import Testing

/// The pieces of cluster mode that need no database: record bytes, local state files.
struct LocalStateTests {
    /// A logged command's bytes depend only on the command: the hash chain relies on it.
    @Test func loggedCommandsEncodeToTheSameBytesAndBack() throws {
        let coder = LoggedCommandCoder()
        let record = LoggedCommand(
            context: CommandContext(actor: .system, time: ClusterFixture.start, reauthenticatedAt: ClusterFixture.start),
            command: .addGroup(NewGroup(address: ClusterFixture.address("team"), name: "Team", kind: .organization, members: [ClusterFixture.address("b"), ClusterFixture.address("a")]))
        )
        let bytes = try coder.encode(record)
        #expect(try coder.encode(record) == bytes)
        #expect(try coder.decode(bytes) == record)
        #expect(throws: StoreError.self) { try coder.decode(Array(bytes.dropLast())) }
    }

    /// The local state file gives back the position it was written with, and a file whose
    /// snapshot bytes were changed is refused, not loaded.
    @Test func localStateRoundTripsAndRefusesDamage() throws {
        let directory = "/tmp/deputy-cluster-state-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = LocalClusterState(dataDirectory: directory)
        #expect(try state.load() == nil)

        let initial = ClusterFixture.initialDirectory()
        let digest = HashChain.next(Array(repeating: 7, count: 32), Array("body".utf8))
        let position = ClusterPosition(directory: initial, sequence: Int64(initial.revision), digest: digest)
        let bytes = try PortableSnapshot.encode(initial)
        try state.save(position, snapshot: bytes)
        let loaded = try #require(try state.load())
        #expect(loaded.sequence == position.sequence)
        #expect(loaded.digest == digest)
        #expect(try PortableSnapshot.encode(loaded.directory) == bytes)

        var damaged = try Data(contentsOf: URL(fileURLWithPath: state.path))
        damaged[damaged.count - 10] ^= 0x20
        try damaged.write(to: URL(fileURLWithPath: state.path))
        #expect(throws: ClusterError.self) { try state.load() }
    }

    /// Snapshot bytes do not depend on when they are encoded.
    @Test func portableSnapshotsAreTheSameBytesEveryTime() throws {
        let directory = ClusterFixture.initialDirectory()
        let first = try PortableSnapshot.encode(directory)
        let decoded = try PortableSnapshot.decode(first, source: "test")
        #expect(try PortableSnapshot.encode(decoded) == first)
    }
}

/// When snapshots are due: after enough records, no sooner than the interval, and no sooner
/// than twenty times what the last one took.
struct SnapshotPacingTests {
    @Test func snapshotsWaitForRecordsTheIntervalAndTheirOwnCost() {
        let start = ContinuousClock.now
        var pacing = SnapshotPacing(every: 1_000, interval: .seconds(5), costFactor: 20)
        pacing.applied(999)
        #expect(!pacing.isDue(at: start))
        pacing.applied(1)
        #expect(pacing.isDue(at: start), "the first snapshot waits for records only")
        pacing.started(at: start)
        pacing.finished(cost: .milliseconds(10))
        pacing.applied(5_000)
        #expect(!pacing.isDue(at: start + .seconds(4)))
        #expect(pacing.isDue(at: start + .seconds(5)), "a cheap snapshot keeps the interval")

        // One that took 1.5 s: the next waits 30 s, however many records come.
        pacing.started(at: start + .seconds(5))
        pacing.finished(cost: .milliseconds(1_500))
        pacing.applied(100_000)
        #expect(pacing.minimumGap == .seconds(30))
        #expect(!pacing.isDue(at: start + .seconds(34)))
        #expect(pacing.isDue(at: start + .seconds(35)))

        // A reload makes it due as soon as the gap allows, without more records.
        pacing.started(at: start + .seconds(35))
        pacing.makeDue()
        #expect(!pacing.isDue(at: start + .seconds(36)))
        #expect(pacing.isDue(at: start + .seconds(65)))
    }
}

/// Which wake-ups of the applier read the log: a poll tick always; a notification only when
/// it names a head beyond what this node has applied.
struct LogWakeupsTests {
    @Test func notificationsMergeToTheNewestHeadAndPollTicksAlwaysRead() {
        let wakeups = LogWakeups()
        #expect(wakeups.take() == Wake(pollDue: false, notifiedHead: nil))
        #expect(!wakeups.take().needsCatchUp(after: 0), "a wake-up with nothing behind it reads nothing")

        // Three appends committed while a catch-up ran: one wake-up, the newest head.
        wakeups.notified(payload: "12")
        wakeups.notified(payload: "15")
        wakeups.notified(payload: "13")
        let woken = wakeups.take()
        #expect(woken == Wake(pollDue: false, notifiedHead: 15))
        #expect(woken.needsCatchUp(after: 14))
        #expect(!woken.needsCatchUp(after: 15), "the catch-up before already applied 15")
        #expect(!woken.needsCatchUp(after: 20))
        #expect(wakeups.take() == Wake(pollDue: false, notifiedHead: nil), "taking clears")

        // A poll tick reads the log whatever the notifications said.
        wakeups.notified(payload: "15")
        wakeups.pollTick()
        #expect(wakeups.take().needsCatchUp(after: 100))

        // A payload that is not a sequence (another schema's) always reads.
        wakeups.notified(payload: "head")
        #expect(wakeups.take().needsCatchUp(after: Int64.max - 1))
    }
}
