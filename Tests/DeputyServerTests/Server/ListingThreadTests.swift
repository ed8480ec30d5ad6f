@testable import DeputyServer
import Dispatch
import Foundation
import Glibc
import Testing

/// Listings run in turn on a thread of their own, below the event loops' priority, and no
/// more than a bounded number wait.
@Suite("Listing thread")
struct ListingThreadTests {
    @Test func jobsRunInTurnOnOneThreadTenBelowTheCaller() async throws {
        let listings = ListingThread(name: "test.listings")
        let callerNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let results = await withTaskGroup(of: (Int32, String?)?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await listings.run {
                        let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                        return (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), comm)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let ran = results.compactMap { $0 }
        #expect(ran.count == 20)
        #expect(ran.allSatisfy { $0.0 == ListingThread.niceness(above: callerNice) }, "\(ran)")
        #expect(ListingThread.niceness(above: callerNice) > callerNice || callerNice == 19)
        #expect(Set(ran.map(\.1)) == ["test.listings\n"], "every job on the one thread")
        // The caller's own priority is untouched.
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == callerNice)
    }

    @Test func beyondTheLimitAListingIsRefusedAtOnce() async throws {
        let listings = ListingThread(name: "test.limit", limit: 2)
        let gate = DispatchSemaphore(value: 0)
        // Whatever happens below, the thread is let go: a job queued behind the gate would
        // otherwise wait for ever.
        defer { gate.signal() }
        func waitForPending(_ count: Int) async throws -> Bool {
            // Bounded: a queued job shows at once; the tasks only have to be scheduled.
            for _ in 0..<500 where listings.pending < count { try await Task.sleep(for: .milliseconds(10)) }
            return listings.pending == count
        }
        // One running, held at the gate, then one waiting, fill the limit. The second is
        // queued only once the first is: tasks start in no fixed order, and a second job
        // that reached the thread first would run and leave, not wait.
        let running = Task { await listings.run { gate.wait(); return 1 } }
        try #require(try await waitForPending(1))
        let waiting = Task { await listings.run { 2 } }
        try #require(try await waitForPending(2))
        // A refusal comes at once. Were the job queued instead, it would wait behind the
        // gate: the gate is let go after a bound, so that the test fails rather than hangs.
        let release = Task {
            guard (try? await Task.sleep(for: .seconds(10))) != nil else { return }
            gate.signal()
        }
        #expect(await listings.run { 3 } == nil)
        release.cancel()
        gate.signal()
        #expect(await running.value == 1)
        #expect(await waiting.value == 2)
        #expect(await listings.run { 4 } == 4)
    }
}
