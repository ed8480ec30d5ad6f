@testable import DeputyCore
import Foundation
import Testing

/// The audit log's versions share their records: each version keeps exactly what was
/// appended to it, however the versions branch, across chunk boundaries and threads.
struct AuditLogTests {
    private static let start = Date(timeIntervalSince1970: 1_800_000_000)

    private static func append(_ n: Int, to log: inout AuditLog, tag: String) {
        for i in 0..<n {
            log.append(
                time: start.addingTimeInterval(Double(log.count)), actor: "admin@acme.test", actorPrincipal: .system,
                action: "tag-\(tag)", target: "user\(i)@acme.test", detail: "", outcome: .applied
            )
        }
    }

    /// What a log should hold: its records' actions and sequences, oldest first.
    private static func summary(_ log: AuditLog) -> [String] {
        log.all.map { "\($0.sequence):\($0.action):\($0.target)" }
    }

    @Test func eachVersionKeepsWhatWasAppendedToIt() {
        var base = AuditLog()
        Self.append(AuditChunk.capacity + 7, to: &base, tag: "base")
        let frozen = base
        let frozenSummary = Self.summary(frozen)

        // Two versions grown from the same one: the second finds the slot taken.
        var left = base
        var right = base
        Self.append(3, to: &left, tag: "left")
        Self.append(AuditChunk.capacity, to: &right, tag: "right")
        Self.append(1, to: &left, tag: "left-again")

        #expect(Self.summary(frozen) == frozenSummary)
        #expect(frozen.count == AuditChunk.capacity + 7)
        #expect(left.count == AuditChunk.capacity + 11)
        #expect(right.count == 2 * AuditChunk.capacity + 7)
        #expect(Array(Self.summary(left).prefix(frozen.count)) == frozenSummary)
        #expect(Array(Self.summary(right).prefix(frozen.count)) == frozenSummary)
        #expect(Self.summary(left).dropFirst(frozen.count).allSatisfy { $0.contains(":tag-left") })
        #expect(Self.summary(right).dropFirst(frozen.count).allSatisfy { $0.contains(":tag-right:") })
        #expect(left.all.map(\.sequence) == Array(1...UInt64(left.count)))
        #expect(right.lastSequence == UInt64(right.count))
    }

    @Test func lookupsAndSearchesMatchTheRecords() throws {
        var log = AuditLog()
        Self.append(3 * AuditChunk.capacity + 5, to: &log, tag: "x")
        let records = log.all
        for sequence in [1, 2, 511, 512, 513, 1024, 1025, records.count] {
            #expect(log[UInt64(sequence)] == records[sequence - 1])
        }
        #expect(log[0] == nil)
        #expect(log[UInt64(records.count + 1)] == nil)

        let newest = log.search(AuditFilter(), limit: 3)
        #expect(newest.map(\.sequence) == [UInt64(records.count), UInt64(records.count - 1), UInt64(records.count - 2)])
        let after = log.search(AuditFilter(afterSequence: UInt64(records.count - 600)), limit: 10_000)
        #expect(after.count == 600)
        // The rest of a range one page could not hold: after= and before= together.
        let total = UInt64(records.count)
        let page = log.search(AuditFilter(afterSequence: total - 600, beforeSequence: total - 99), limit: 100)
        #expect(page.map(\.sequence) == Array((total - 199)...(total - 100)).reversed())
        let last = log.search(AuditFilter(afterSequence: total - 600, beforeSequence: total - 550), limit: 100)
        #expect(last.map(\.sequence) == Array((total - 599)...(total - 551)).reversed())
        let byTarget = log.search(AuditFilter(target: "user3@acme.test"), limit: 10_000)
        #expect(byTarget.map(\.sequence) == records.filter { $0.target == "user3@acme.test" }.map(\.sequence).reversed())
        #expect(log.search(AuditFilter(), limit: 10, scanLimit: 4).count == 4)
        // before= starts where it says, however many newer records there are: the scan's
        // bound counts only the records looked at from there.
        let deep = log.search(AuditFilter(beforeSequence: total - 1_000), limit: 10, scanLimit: 100)
        #expect(deep.map(\.sequence) == Array((total - 1_010)...(total - 1_001)).reversed())
        #expect(log.search(AuditFilter(beforeSequence: 1), limit: 10).isEmpty)
        #expect(log.search(AuditFilter(beforeSequence: total + 5), limit: 1).map(\.sequence) == [total])
    }

    @Test func restoredRecordsAreOrderedAndTheLaterOfTwoWithOneSequenceStays() throws {
        var source = AuditLog()
        Self.append(600, to: &source, tag: "s")
        var records = source.all
        let replacement = AuditRecord(
            sequence: 10, time: Self.start, actor: "other@acme.test", actorPrincipal: .system,
            action: "replaced", target: "t", detail: "", outcome: .applied
        )
        records.reverse()
        records.append(replacement)

        let restored = AuditLog(restoring: records)
        #expect(restored.count == 600)
        #expect(restored.all.map(\.sequence) == Array(1...600))
        #expect(restored[10] == replacement)
        #expect(restored.lastSequence == 600)
        // In order already: kept as it is.
        #expect(AuditLog(restoring: source.all).all == source.all)
    }

    /// Versions grown from one on several threads at once: each takes a slot or copies,
    /// never both one slot.
    @Test func versionsGrownOnSeveralThreadsAtOnceStayApart() async {
        var base = AuditLog()
        Self.append(AuditChunk.capacity - 20, to: &base, tag: "base")
        let shared = base
        for round in 0..<50 {
            let summaries = await withTaskGroup(of: (Int, [String]).self) { group in
                for branch in 0..<4 {
                    group.addTask {
                        var log = shared
                        Self.append(40, to: &log, tag: "\(round)-\(branch)")
                        return (branch, Self.summary(log))
                    }
                }
                var all: [Int: [String]] = [:]
                for await (branch, summary) in group { all[branch] = summary }
                return all
            }
            for branch in 0..<4 {
                let summary = summaries[branch] ?? []
                #expect(summary.count == shared.count + 40)
                #expect(summary.dropFirst(shared.count).allSatisfy { $0.contains(":tag-\(round)-\(branch):") })
            }
        }
        #expect(shared.count == AuditChunk.capacity - 20)
    }
}
