import DeputyCore
import DeputyProtocol
import DeputyServer
import Foundation
import Testing

/// Limits, throttling and shutdown: each tried.
@Suite("Limits, throttling and shutdown")
struct LimitTests {
    @Test("a line over the limit before BIND is refused and the connection closed")
    func overlongLine() async throws {
        var limits = ServerLimits()
        limits.protocolLimits.maximumLineLengthBeforeAuthentication = 64
        let server = try await TestServer.launch(limits: limits)
        let client = try await server.plainClient()
        // Exactly at the limit is fine (an unknown verb, but an answer).
        #expect(try await client.send(String(repeating: "A", count: 64)).first?.hasPrefix("ERR unknown") == true)
        try await client.write(String(repeating: "A", count: 65) + "\n")
        #expect(try await client.readLine() == "ERR limit line longer than 64 bytes")
        #expect(try await client.readLine() == nil)
        // After BIND the longer limit applies.
        let bound = try await server.boundClient()
        #expect(try await bound.send("PING " + String(repeating: "x", count: 200)).first?.hasPrefix("ERR syntax") == true)
        try await server.stop()
    }

    @Test("the connection limit refuses extras while established clients keep working")
    func connectionLimit() async throws {
        var limits = ServerLimits()
        limits.maximumConnections = 3
        let server = try await TestServer.launch(limits: limits)
        var clients: [LineClient] = []
        for _ in 0..<3 { clients.append(try await server.plainClient()) }
        for _ in 0..<5 {
            // The extra connection gets `ERR limit too many connections` instead of a greeting, then the end.
            let extra = try await server.plainClient()
            #expect(extra.greeting == "ERR limit too many connections")
            #expect(try await extra.readLine() == nil)
        }
        for client in clients { #expect(try await client.send("PING") == ["OK pong"]) }
        await clients[0].close()
        // A freed place is usable again, once the server has seen the close.
        var replacement = try await server.plainClient()
        for _ in 0..<500 where replacement.greeting.hasPrefix("ERR") {
            // Waiting for the server to notice the close, with a bound.
            try await Task.sleep(for: .milliseconds(10))
            replacement = try await server.plainClient()
        }
        #expect(try await replacement.send("PING") == ["OK pong"])
        try await server.stop()
    }

    @Test("an idle connection is closed after the idle timeout with a last line")
    func idleTimeout() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = 0.3
        let server = try await TestServer.launch(limits: limits)
        // The server's clock for the connection starts when it accepts, after this one.
        let started = ContinuousClock.now
        let client = try await server.plainClient()
        // On a loaded machine the timeout may even come before the greeting is written:
        // what matters is that it is the last line, and that it came no earlier than due.
        var lines = [client.greeting]
        while let line = try await client.readLine() { lines.append(line) }
        #expect(lines.last == "ERR limit idle timeout", "\(lines)")
        #expect(lines.count <= 2)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        try await server.stop()
    }

    @Test("after 5 failed BINDs the account is locked and answers like a wrong password")
    func bindLockout() async throws {
        let server = try await TestServer.launch()
        let client = try await server.plainClient()
        #expect(try await client.send("BIND nobody@example.test whatever") == ["ERR auth invalid credentials"])
        for _ in 0..<5 {
            #expect(try await client.send("BIND admin@example.test wrong") == ["ERR auth invalid credentials"])
        }
        // The right password now fails the same way, from another connection too.
        #expect(try await client.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["ERR auth invalid credentials"])
        let other = try await server.plainClient()
        #expect(try await other.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["ERR auth invalid credentials"])
        // The lock lasts 15 minutes.
        server.clock.advance(by: 901)
        #expect(try await other.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["OK bound as admin@example.test"])
        try await server.stop()
    }

    @Test("graceful shutdown lets a connection finish the request in hand, then closes it")
    func gracefulShutdown() async throws {
        let server = try await TestServer.launch()
        let client = try await server.boundClient()
        // Both lines reach the server together; once PING is answered, the ADD is in hand
        // (read and queued, or being answered) when the shutdown begins.
        try await client.write("PING\nADD USER late@example.test password=pw-late\n")
        #expect(try await client.readReply() == ["OK pong"])
        async let stopped: Void = server.stop()
        #expect(try await client.readReply() == ["OK user late@example.test added (revision 2)"])
        #expect(try await client.readLine() == nil)
        try await stopped
        #expect(server.committer.live.directory.user(at: .init("late@example.test")!) != nil)
    }

    @Test("no password appears in any reply or in the audit log")
    func noPasswordsInReplies() async throws {
        let server = try await TestServer.launch()
        let client = try await server.boundClient()
        let secret = "Sup3r-Secret-Value"
        var replies: [String] = []
        for line in [
            "ADD USER x@example.test password=\(secret)", "ADD USER x@example.test password=\(secret)",
            "PASSWD x@example.test new=\(secret)", "BIND x@example.test \(secret)2", "REAUTH \(secret)",
            "ADD SERVICE svc password=\(secret)", "QUERY ENTRY x@example.test", "AUDIT limit=50",
        ] {
            replies += try await client.send(line)
        }
        #expect(!replies.joined().contains(secret))
        #expect(!server.committer.live.directory.auditLog.all.map { "\($0)" }.joined().contains(secret))
        try await server.stop()
    }
}
