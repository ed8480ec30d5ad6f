import Foundation
import Synchronization
import Testing

@testable import DeputyServer

@Suite("deputy audit --follow")
struct AuditFollowCLITests {
    @Test("more new records between two polls than one reply holds: every one is printed, in order")
    func burstBetweenPolls() async throws {
        let cli = try await CLIHarness.start()
        let admin = try await cli.server.boundClient()
        let polls = Mutex(0)
        // Before the follower's second poll, 150 changes: more than the 100 records a poll
        // asks for. The poll after those is refused, which ends the follower.
        let proxy = try await InterceptingProxy.start(upstreamPort: cli.server.plainPort) { line in
            guard line.hasPrefix("AUDIT "), !line.contains("before=") else { return }
            let poll = polls.withLock { count in
                count += 1
                return count
            }
            if poll == 2 {
                for index in 1...150 {
                    let reply = try await admin.send("ADD USER burst\(index)@example.test")
                    #expect(reply.last?.hasPrefix("OK") == true, "\(reply)")
                }
            } else if poll == 3 {
                throw TestFailure("the follower has had its chance")
            }
        }
        let flags = ["--server", "deputy+plain://127.0.0.1:\(proxy.port)", "--user", "admin@example.test", "-o", "plain"]
        let result = try await cli.run(["audit", "--follow", "--interval", "0.05"] + flags, connection: false)
        #expect(result.status == 3, "\(result.error)")
        let sequences = result.output.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("seq=") else { return nil }
            return Int(line.dropFirst(4).prefix { $0.isNumber })
        }
        #expect(sequences.count >= 150, "\(result.output)")
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 }, "\(sequences)")
        let burst = result.output.split(separator: "\n").filter { $0.contains("target=burst") }
        #expect(burst.count == 150)
        await admin.close()
        try await proxy.stop()
        try await cli.stop()
    }
}
