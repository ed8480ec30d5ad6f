@testable import DeputyServer
import Foundation
import Glibc
import Testing

/// Listings run in turn on a thread of their own, below the event loops' priority.
@Suite("Listing thread")
struct ListingThreadTests {
    @Test func jobsRunInTurnOnOneThreadAtNiceTen() async throws {
        let listings = ListingThread(name: "test.listings")
        let callerNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let results = await withTaskGroup(of: (Int32, String?).self) { group in
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
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0.0 == ListingThread.niceness }, "\(results)")
        #expect(Set(results.map(\.1)) == ["test.listings\n"], "every job on the one thread")
        // The caller's own priority is untouched.
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == callerNice)
    }
}
