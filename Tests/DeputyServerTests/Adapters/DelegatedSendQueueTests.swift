import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Logging
import Synchronization
import Testing

/// The delegated-send audit while changes are refused for want of the database (cluster
/// mode with PostgreSQL away): sends are queued in order, in a bounded queue, and written
/// with their own times once changes are accepted again.
@Suite("Delegated sends queued while changes are refused")
struct DelegatedSendQueueTests {
    /// A committer whose database can be taken away: while it is, every change is refused
    /// with ``CommitUnavailable``, as the cluster committer refuses them.
    final class Outage: DirectoryCommitter {
        let inner: InMemoryCommitter
        private let down = Atomic(false)
        /// Whether the change in flight is lost with its connection (outcome unknown).
        private let inFlightLost = Atomic(false)

        init(_ directory: Directory) { inner = InMemoryCommitter(directory) }

        var live: LiveDirectory { inner.live }
        func setDown(_ value: Bool, outcomeUnknown: Bool = false) {
            down.store(value, ordering: .relaxed)
            inFlightLost.store(outcomeUnknown, ordering: .relaxed)
        }

        func commit(_ command: Command, context: CommandContext) async throws -> Committed {
            if down.load(ordering: .relaxed) {
                throw CommitUnavailable("the database is unreachable", outcomeUnknown: inFlightLost.load(ordering: .relaxed))
            }
            return try await inner.commit(command, context: context)
        }

        func snapshot() async throws -> String { try await inner.snapshot() }
    }

    static func grant(_ directory: Directory, login: String, mailbox: String) throws -> DelegatedSendGrant {
        let decision = directory.sendAs(login: login, address: mailbox, at: MailFixture.now)
        guard case .delegation(_, let grant, _) = decision.reason else { throw TestFailure("\(login) holds no delegation of \(mailbox)") }
        return DelegatedSendGrant(delegation: grant, owner: MailFixture.address(mailbox), viaGroup: nil)
    }

    static func audited(_ committer: Outage) -> [String] {
        committer.live.directory.auditLog.all.filter { $0.action == "delegated-send" }.map { "\($0.actor) \($0.time.timeIntervalSince(MailFixture.now))" }
    }

    @Test("queued in order while refused, written with their own times once accepted")
    func queuedThenWritten() async throws {
        let committer = Outage(MailFixture.directory())
        let recorder = CommittingDelegatedSendRecorder(committer: committer, logger: .init(label: "test"), capacity: 100)
        let grant = try Self.grant(committer.live.directory, login: "secretary@example.test", mailbox: "boss@example.test")
        let secretary = MailFixture.address("secretary@example.test"), boss = MailFixture.address("boss@example.test")

        await recorder.record(login: secretary, sender: boss, delegation: grant, at: MailFixture.now)
        committer.setDown(true)
        for second in 1...3 {
            await recorder.record(login: secretary, sender: boss, delegation: grant, at: MailFixture.now.addingTimeInterval(Double(second)))
        }
        #expect(await recorder.queued == 3)
        #expect(await !recorder.flush(), "a flush while refused writes nothing")
        #expect(Self.audited(committer) == ["secretary@example.test 0.0"])

        committer.setDown(false)
        // A send after the outage waits behind the queued ones, keeping the order.
        await recorder.record(login: secretary, sender: boss, delegation: grant, at: MailFixture.now.addingTimeInterval(4))
        #expect(await recorder.queued == 4)
        #expect(await recorder.flush())
        #expect(await recorder.queued == 0)
        #expect(Self.audited(committer) == (0...4).map { "secretary@example.test \(Double($0))" })
    }

    @Test("past its capacity the queue drops records, counts them, and keeps the earlier ones")
    func bounded() async throws {
        let committer = Outage(MailFixture.directory())
        let recorder = CommittingDelegatedSendRecorder(committer: committer, logger: .init(label: "test"), capacity: 2)
        let grant = try Self.grant(committer.live.directory, login: "secretary@example.test", mailbox: "boss@example.test")
        committer.setDown(true)
        for second in 0..<5 {
            await recorder.record(
                login: MailFixture.address("secretary@example.test"), sender: MailFixture.address("boss@example.test"), delegation: grant,
                at: MailFixture.now.addingTimeInterval(Double(second))
            )
        }
        #expect(await recorder.queued == 2)
        #expect(await recorder.dropped == 3)
        committer.setDown(false)
        #expect(await recorder.flush())
        #expect(Self.audited(committer) == ["secretary@example.test 0.0", "secretary@example.test 1.0"])
    }

    @Test("a record whose commit may have been made is not queued again")
    func outcomeUnknownIsNotRepeated() async throws {
        let committer = Outage(MailFixture.directory())
        let recorder = CommittingDelegatedSendRecorder(committer: committer, logger: .init(label: "test"), capacity: 10)
        let grant = try Self.grant(committer.live.directory, login: "secretary@example.test", mailbox: "boss@example.test")
        committer.setDown(true, outcomeUnknown: true)
        await recorder.record(login: MailFixture.address("secretary@example.test"), sender: MailFixture.address("boss@example.test"), delegation: grant, at: MailFixture.now)
        #expect(await recorder.queued == 0)
    }

    @Test("records still queued when the daemon stops are each logged with what they would have held, and counted as dropped")
    func queuedAtShutdown() async throws {
        let committer = Outage(MailFixture.directory())
        let capture = LogCapture()
        let recorder = CommittingDelegatedSendRecorder(committer: committer, logger: capture.logger, capacity: 10)
        let grant = try Self.grant(committer.live.directory, login: "secretary@example.test", mailbox: "boss@example.test")
        committer.setDown(true)
        for second in 1...3 {
            let details = DelegatedSendDetails(permission: .sendAs, queueID: "Q\(second)", messageID: "<m\(second)@example.test>", path: "milter")
            let event = DelegatedSendEvent(
                login: MailFixture.address("secretary@example.test"), sender: MailFixture.address("boss@example.test"), grant: grant, details: details
            )
            await recorder.record(event, at: MailFixture.now.addingTimeInterval(Double(second)))
        }
        #expect(await recorder.queued == 3)
        // The daemon stops while changes are still refused.
        let running = Task { try await recorder.run() }
        running.cancel()
        try await running.value
        #expect(await recorder.queued == 0)
        #expect(await recorder.dropped == 3)
        let records = capture.lines.filter { $0.message == "delegated send not recorded in the audit log" }.map(\.metadata)
        #expect(records.map { $0["audit.queueid"]?.description } == ["Q1", "Q2", "Q3"])
        #expect(records.map { $0["audit.messageid"]?.description } == ["<m1@example.test>", "<m2@example.test>", "<m3@example.test>"])
        #expect(records.map { $0["audit.time"]?.description } == (1...3).map { Timestamp.format(MailFixture.now.addingTimeInterval(Double($0))) })
        #expect(records.allSatisfy { $0["audit.login"]?.description == "secretary@example.test" && $0["audit.sender"]?.description == "boss@example.test" })
    }
}

extension CommittingDelegatedSendRecorder {
    /// Records a send-as that the policy service allowed, without a queue id.
    func record(login: EmailAddress, sender: EmailAddress, delegation: DelegatedSendGrant, at time: Date) async {
        let details = DelegatedSendDetails(permission: .sendAs, queueID: nil, messageID: nil, path: "policy")
        await record(DelegatedSendEvent(login: login, sender: sender, grant: delegation, details: details), at: time)
    }
}
