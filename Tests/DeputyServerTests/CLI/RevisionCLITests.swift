import Foundation
import Synchronization
import Testing

@testable import DeputyServer

@Suite("deputy --revision")
struct RevisionCLITests {
    @Test("every query and audit read waits for the revision given; changes go as they are")
    func queriesWait() async throws {
        let cli = try await CLIHarness.start()
        let lines = Mutex<[String]>([])
        let proxy = try await InterceptingProxy.start(upstreamPort: cli.server.plainPort) { line in
            lines.withLock { $0.append(line) }
        }
        let flags = ["--server", "deputy+plain://127.0.0.1:\(proxy.port)", "--user", "admin@example.test"]
        let added = try await cli.run(["user", "add", "rita@example.test", "--revision", "1"] + flags, connection: false)
        #expect(added.status == 0, "\(added.error)")
        let revision = try #require(added.error.split(separator: "(revision ").last.flatMap { Int($0.prefix { $0.isNumber }) })
        // Before the subcommand, as the other connection options may be.
        let shown = try await cli.run(["--revision", "\(revision)", "-o", "plain", "user", "show", "rita@example.test"] + flags, connection: false)
        #expect(shown.status == 0, "\(shown.error)")
        #expect(shown.output.contains("mail=rita@example.test"), "\(shown.output)")
        let audit = try await cli.run(["audit", "--limit", "1", "--revision", "\(revision)"] + flags, connection: false)
        #expect(audit.status == 0, "\(audit.error)")
        let sent = lines.withLock { $0 }
        #expect(sent.contains { $0.hasPrefix("ADD USER rita@example.test") && !$0.contains("revision=") }, "\(sent)")
        #expect(sent.contains { $0.hasPrefix("QUERY ENTRY rita@example.test") && $0.hasSuffix(" revision=\(revision)") }, "\(sent)")
        #expect(sent.contains { $0.hasPrefix("AUDIT ") && $0.hasSuffix(" revision=\(revision)") }, "\(sent)")
        #expect(sent.contains { $0.hasPrefix("BIND ") && !$0.contains("revision=") })
        try await proxy.stop()
        try await cli.stop()
    }
}
