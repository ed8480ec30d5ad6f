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
        // One running (held at the gate) and one waiting fill the limit.
        let running = Task { await listings.run { gate.wait(); return 1 } }
        let waiting = Task { await listings.run { 2 } }
        for _ in 0..<200 where listings.pending < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(listings.pending == 2)
        #expect(await listings.run { 3 } == nil)
        gate.signal()
        #expect(await running.value == 1)
        #expect(await waiting.value == 2)
        #expect(await listings.run { 4 } == 4)
    }
}
