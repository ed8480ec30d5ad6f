@testable import DeputyDaemon
import DeputyCore
import DeputyServer
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// In cluster mode most audit records come from other nodes' changes, which this node only
/// applies: its audit log file must follow them, not only its own commits.
@Suite("Audit log file in cluster mode")
struct AuditFileFollowerTests {
    @Test func theFileFollowsChangesAppliedFromElsewhere() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-follow-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/audit.log"
        var directory = TestServer.directory()
        let live = LiveDirectory(directory)
        let audit = try AuditFileWriter(path: path, logger: Logger(label: "test"))
        let follower = Task { try await AuditFileFollower(audit: audit, live: live).run() }
        defer { follower.cancel() }
        func lines() -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func waitForLines(_ count: Int) async throws -> Bool {
            // Bounded: the follower looks twice a second.
            for _ in 0..<100 where lines().count < count { try await Task.sleep(for: .milliseconds(50)) }
            return lines().count >= count
        }
        #expect(try await waitForLines(1), "the organisation's record at start")

        // A change applied here as another node's: no commit of this node's own.
        directory.apply(.recordLoginFailure(LoginAttempt(login: "x@example.test", source: "192.0.2.1", via: "bind")), context: CommandContext(actor: .system, time: TestServer.start))
        live.publish(directory)
        #expect(try await waitForLines(2))
        #expect(lines().last?.contains("\"action\":\"login-failed\"") == true, "\(lines())")
    }
}
