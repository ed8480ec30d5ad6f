import Foundation
import Synchronization
import Testing

@testable import DeputyServer

@Suite("deputy audit --follow")
struct AuditFollowCLITests {
    /// Follows the audit log through a proxy that makes `burst` changes before the second
    /// poll and refuses the third (ending the follower); returns what it printed.
    static func follow(limits: ServerLimits = ServerLimits(), arguments: [String] = [], burst: Int) async throws -> ProcessRunner.Result {
        let cli = try await CLIHarness.start(limits: limits)
        let admin = try await cli.server.boundClient()
        let polls = Mutex(0)
        let proxy = try await InterceptingProxy.start(upstreamPort: cli.server.plainPort) { line in
            guard line.hasPrefix("AUDIT "), !line.contains("before=") else { return }
            let poll = polls.withLock { count in
                count += 1
                return count
            }
            if poll == 2 {
                for index in 1...burst {
                    let reply = try await admin.send("ADD USER burst\(index)@example.test")
                    #expect(reply.last?.hasPrefix("OK") == true, "\(reply)")
                }
            } else if poll == 3 {
                throw TestFailure("the follower has had its chance")
            }
        }
        let flags = ["--server", "deputy+plain://127.0.0.1:\(proxy.port)", "--user", "admin@example.test", "-o", "plain"]
        let result = try await cli.run(["audit", "--follow", "--interval", "0.05"] + arguments + flags, connection: false)
        await admin.close()
        try await proxy.stop()
        try await cli.stop()
        return result
    }

    /// Checks that every change of the burst was printed once, in order.
    static func expectEveryRecord(_ result: ProcessRunner.Result, burst: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 3, "\(result.error)", sourceLocation: sourceLocation)
        let lines = result.output.split(separator: "\n")
        let sequences = lines.compactMap { line -> Int? in
            guard line.hasPrefix("seq=") else { return nil }
            return Int(line.dropFirst(4).prefix { $0.isNumber })
        }
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 }, "\(sequences)", sourceLocation: sourceLocation)
        #expect(lines.filter { $0.contains("target=burst") }.count == burst, "\(result.output)", sourceLocation: sourceLocation)
    }

    @Test("more new records between two polls than one reply holds: every one is printed, in order")
    func burstBetweenPolls() async throws {
        Self.expectEveryRecord(try await Self.follow(burst: 150), burst: 150)
    }

    @Test("a limit above the server's own cap on a reply: the records past a capped page are fetched too")
    func limitAboveTheServersCap() async throws {
        var limits = ServerLimits()
        limits.maximumListing = 10
        Self.expectEveryRecord(try await Self.follow(limits: limits, arguments: ["--limit", "20"], burst: 30), burst: 30)
    }
}
