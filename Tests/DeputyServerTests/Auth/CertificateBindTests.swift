import DeputyCore
import DeputyProtocol
@testable import DeputyServer
import Foundation
import Logging
import NIOCore
import Testing

/// `BIND <service>` without a password, by the connection's client certificate, and the
/// login throttle: the same rules as a password's.
@Suite("BIND by client certificate and the login throttle")
struct CertificateBindTests {
    static func session(_ committer: InMemoryCommitter, _ throttle: LoginThrottle, peer: String, certificate: String?) -> Session {
        let environment = SessionEnvironment(
            committer: committer, passwords: PasswordService(hasher: TestServer.hasher, pool: SessionHandlerTests.pool),
            throttle: throttle, clock: { TestServer.start }
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var session = Session(environment: environment, peer: peer, logger: logger)
        session.certificateName = certificate
        return session
    }

    static func send(_ session: inout Session, _ line: String) async -> Reply {
        await session.handle(line: ByteBuffer(string: line)).0
    }

    /// A directory with the service account `relay`.
    static func committer() async throws -> InMemoryCommitter {
        let committer = InMemoryCommitter(TestServer.directory())
        var admin = session(committer, LoginThrottle(), peer: "192.0.2.200", certificate: nil)
        #expect(await send(&admin, "BIND admin@example.test \"\(TestServer.adminPassword)\"").status.isOK)
        #expect(await send(&admin, "ADD SERVICE relay password=relay-pw").status.isOK)
        return committer
    }

    @Test("failures are recorded until the address is locked, then no more: binds without a certificate can't flood the audit log")
    func failuresAreBounded() async throws {
        let committer = try await Self.committer()
        let before = committer.live.directory.auditLog.count
        var session = Self.session(committer, LoginThrottle(), peer: "192.0.2.7", certificate: nil)
        for index in 0..<200 {
            #expect(await Self.send(&session, "BIND ghost\(index)") == Session.invalidCredentials)
        }
        let records = committer.live.directory.auditLog.all.dropFirst(before)
        #expect(records.count <= LoginThrottle.Policy().addressFailures + 1, "\(records.count) records")
        #expect(records.contains { $0.action == "login-locked" })
    }

    @Test("mail servers binding by certificate from many addresses are not slowed as guessers, nor locked out by someone else's guesses")
    func certificateBindsAreSuccesses() async throws {
        let committer = try await Self.committer()
        let throttle = LoginThrottle()
        // Fifteen mail servers, each from an address of its own.
        for host in 1...15 {
            var server = Self.session(committer, throttle, peer: "192.0.2.\(host)", certificate: "relay")
            #expect(await Self.send(&server, "BIND relay") == Reply(status: .ok(text: "bound as relay")), "mail server \(host)")
        }
        // Someone guesses relay's password from other addresses, enough to slow the login.
        for guesser in 1...12 {
            var session = Self.session(committer, throttle, peer: "198.51.100.\(guesser)", certificate: nil)
            #expect(await Self.send(&session, "BIND relay wrong-\(guesser)") == Session.invalidCredentials)
        }
        // A mail server that bound before still gets in.
        var again = Self.session(committer, throttle, peer: "192.0.2.3", certificate: "relay")
        #expect(await Self.send(&again, "BIND relay") == Reply(status: .ok(text: "bound as relay")))
    }
}
