import DeputyCore
@testable import DeputyServer
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing

/// Listings run on a thread of their own, below the event loops' priority, a turn per
/// principal, and no more than a bounded number wait, of all and of one principal.
@Suite("Listing thread")
struct ListingThreadTests {
    static let alice = Principal.user(EntityID(1))
    static let bob = Principal.user(EntityID(2))
    static let carol = Principal.user(EntityID(3))

    @Test func jobsRunOnOneThreadTenBelowTheCaller() async throws {
        let listings = ListingThread(name: "test.listings")
        let callerNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let results = await withTaskGroup(of: Result<(Int32, String?), ListingThread.Refusal>.self) { group in
            for index in 0..<20 {
                group.addTask {
                    await listings.run(for: index.isMultiple(of: 2) ? Self.alice : Self.bob) {
                        let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                        return (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), comm)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let ran = results.compactMap { try? $0.get() }
        #expect(ran.count == 20)
        #expect(ran.allSatisfy { $0.0 == ListingThread.niceness(above: callerNice) }, "\(ran)")
        #expect(ListingThread.niceness(above: callerNice) > callerNice || callerNice == 19)
        #expect(Set(ran.map(\.1)) == ["test.listings\n"], "every job on the one thread")
        // The caller's own priority is untouched.
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == callerNice)
    }

    /// What the jobs of ``order(of:on:)`` did, by label.
    final class Record: Sendable {
        let ran = Mutex<[String]>([])
        let refused = Mutex<[String: ListingThread.Refusal]>([:])

        func isRefused(_ label: String) -> Bool { refused.withLock { $0[label] != nil } }
    }

    /// Queues jobs one after another, in a fixed order, behind a first job held at a gate;
    /// returns the order they ran in, by label, and the refusals. Tasks start in no fixed
    /// order, so each job is queued only once the one before it is.
    static func order(
        of jobs: [(Principal, String)], on listings: ListingThread
    ) async throws -> (ran: [String], refused: [String: ListingThread.Refusal]) {
        let gate = DispatchSemaphore(value: 0)
        // Whatever happens, the thread is let go: jobs queued behind the gate would
        // otherwise wait for ever.
        defer { gate.signal() }
        let record = Record()
        let (firstOwner, firstLabel) = jobs[0]
        let first = Task {
            _ = await listings.run(for: firstOwner) {
                gate.wait()
                record.ran.withLock { $0.append(firstLabel) }
            }
        }
        var queued = [first]
        var expected = 1
        try #require(try await waitForPending(expected, on: listings))
        for (owner, label) in jobs.dropFirst() {
            queued.append(Task {
                if case .failure(let refusal) = await listings.run(for: owner, { record.ran.withLock { $0.append(label) } }) {
                    record.refused.withLock { $0[label] = refusal }
                }
            })
            // A refusal comes at once and adds nothing to wait for.
            for _ in 0..<500 where listings.pending < expected + 1 && !record.isRefused(label) {
                try await Task.sleep(for: .milliseconds(10))
            }
            if !record.isRefused(label) { expected += 1 }
            try #require(listings.pending == expected, "\(label) was neither queued nor refused")
        }
        gate.signal()
        for task in queued { await task.value }
        return (record.ran.withLock { $0 }, record.refused.withLock { $0 })
    }

    static func waitForPending(_ count: Int, on listings: ListingThread) async throws -> Bool {
        // Bounded: a queued job shows at once; the tasks only have to be scheduled.
        for _ in 0..<500 where listings.pending < count { try await Task.sleep(for: .milliseconds(10)) }
        return listings.pending == count
    }

    @Test("principals take turns: one principal's queue of searches delays another's listing by one")
    func principalsTakeTurns() async throws {
        let listings = ListingThread(name: "test.turns")
        let (ran, refused) = try await Self.order(of: [
            (Self.alice, "a1"), (Self.alice, "a2"), (Self.alice, "a3"), (Self.alice, "a4"), (Self.alice, "a5"),
            (Self.bob, "b1"), (Self.bob, "b2"), (Self.carol, "c1"),
        ], on: listings)
        #expect(refused.isEmpty)
        #expect(ran == ["a1", "b1", "c1", "a2", "b2", "a3", "a4", "a5"])
        // A job's place is given up before its answer leaves.
        #expect(listings.pending == 0)
    }

    @Test("beyond the limit, of all or of one principal, a listing is refused at once")
    func beyondTheLimitsAListingIsRefusedAtOnce() async throws {
        let listings = ListingThread(name: "test.limit", limit: 4, ownerLimit: 2)
        let (ran, refused) = try await Self.order(of: [
            (Self.alice, "a1"), (Self.alice, "a2"), (Self.alice, "a3"),
            (Self.bob, "b1"), (Self.bob, "b2"), (Self.carol, "c1"),
        ], on: listings)
        #expect(refused == ["a3": .ownerFull, "c1": .full])
        #expect(ran == ["a1", "b1", "a2", "b2"])
        // Once they are answered there is room again.
        #expect(try await listings.run(for: Self.carol) { 4 }.get() == 4)
    }
}
