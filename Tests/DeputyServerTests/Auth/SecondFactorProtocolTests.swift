import DeputyCore
import DeputyProtocol
@testable import DeputyServer
import Foundation
import Logging
import NIOCore
import Testing

/// The second factor through the protocol, against a real daemon.
@Suite("Second factor over the protocol")
struct SecondFactorProtocolTests {
    static let password = TestServer.adminPassword
    static let refused = ["ERR auth invalid credentials"]

    /// `MFA ENROLL` on `client`: the secret the reply shows and the recovery codes.
    static func enroll(_ client: LineClient) async throws -> (secret: [UInt8], recovery: [String]) {
        let reply = try await client.send("MFA ENROLL")
        #expect(reply.last?.hasPrefix("OK second factor enrolled") == true, "\(reply)")
        let fields = reply.filter { $0.hasPrefix("* ") }.flatMap { $0.dropFirst(2).split(separator: " ").map(String.init) }
        let secretText = try #require(fields.first { $0.hasPrefix("secret=") }).dropFirst("secret=".count)
        let secret = try #require(Base32.decode(String(secretText)))
        let uri = try #require(fields.first { $0.hasPrefix("uri=") })
        #expect(uri.hasPrefix("uri=otpauth://totp/example:") && uri.contains("secret=\(secretText)&issuer=example&algorithm=SHA1&digits=6&period=30"))
        let recovery = fields.filter { $0.hasPrefix("recovery=") }.map { String($0.dropFirst("recovery=".count)) }
        #expect(recovery.count == RecoveryCode.count)
        #expect(secret.count == TOTP.secretLength)
        return (secret, recovery)
    }

    static func code(_ secret: [UInt8], _ server: TestServer, steps offset: Int = 0) -> String {
        TOTP.code(secret: secret, step: UInt64(Int(TOTP.step(at: server.clock.now)) + offset))
    }

    /// A server whose super administrator enrolled and confirmed a factor, bound again
    /// (so with no window open).
    static func serverWithFactor() async throws -> (TestServer, LineClient, [UInt8], [String]) {
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()
        let (secret, recovery) = try await enroll(admin)
        #expect(try await admin.send("MFA CONFIRM \(code(secret, server))").last?.hasPrefix("OK second factor confirmed for admin@example.test") == true)
        #expect(try await admin.send("BIND admin@example.test \"\(password)\"") == ["OK bound as admin@example.test"])
        return (server, admin, secret, recovery)
    }

    @Test("the super administrator transfer: refused with the password alone for an account with a factor, accepted with a code; a replayed code is refused")
    func transfer() async throws {
        let (server, admin, secret, _) = try await Self.serverWithFactor()
        #expect(try await admin.send("ADD USER carol@example.test password=carol-pw").last?.hasPrefix("OK user carol@example.test added") == true)
        // Granting admin is a sensitive act too, once the actor has a factor.
        #expect(try await admin.send("GRANT admin carol@example.test").first?.hasPrefix("ERR reauth [second-factor]") == true)
        // BIND did not open the window.
        #expect(try await admin.send("WHOAMI").first?.hasSuffix("reauthenticated=no") == true)
        #expect(try await admin.send("REAUTH \"\(Self.password)\"") == ["ERR reauth [second-factor] this account has a second factor: REAUTH <password> <code>"])
        #expect(try await admin.send("GRANT superadmin carol@example.test").first?.hasPrefix("ERR denied [superadmin-transfer]") == true)
        // The code MFA CONFIRM used can't be used again.
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server))") == Self.refused)
        // The next step's code is within the drift, and opens the window.
        let next = Self.code(secret, server, steps: 1)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(next)") == ["OK re-authenticated with the second factor for 5 minutes"])
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(next)") == Self.refused)
        #expect(try await admin.send("WHOAMI").first?.hasSuffix("reauthenticated=yes") == true)
        #expect(try await admin.send("GRANT admin carol@example.test").last?.hasPrefix("OK carol@example.test is now an administrator") == true)
        #expect(try await admin.send("GRANT superadmin carol@example.test").last?.hasPrefix("OK carol@example.test is now the super administrator; admin@example.test is an administrator") == true)
        // The window closes after five minutes, like the password's.
        server.clock.advance(by: 301)
        #expect(try await admin.send("WHOAMI").first?.hasSuffix("reauthenticated=no") == true)
        try await server.stop()
    }

    @Test("one step of drift either way is accepted, two are not; a wrong password with the right code fails")
    func drift() async throws {
        let (server, admin, secret, _) = try await Self.serverWithFactor()
        server.clock.advance(by: 300)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server, steps: 2))") == Self.refused)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server, steps: -2))") == Self.refused)
        #expect(try await admin.send("REAUTH wrong \(Self.code(secret, server, steps: -1))") == Self.refused)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server, steps: -1))").first?.hasPrefix("OK") == true)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server, steps: 1))").first?.hasPrefix("OK") == true)
        try await server.stop()
    }

    @Test("wrong codes count toward the lockout, and are audited")
    func lockout() async throws {
        let (server, admin, secret, _) = try await Self.serverWithFactor()
        server.clock.advance(by: 60)
        let wrong = Self.code(secret, server, steps: 5)
        for _ in 0..<5 { #expect(try await admin.send("REAUTH \"\(Self.password)\" \(wrong)") == Self.refused) }
        // Locked from this address now: the right password and code get the same answer.
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server))") == Self.refused)
        let other = try await server.plainClient()
        #expect(try await other.send("BIND admin@example.test \"\(Self.password)\"") == Self.refused)
        // Fifteen minutes later the lock is gone, and the count of failures was the codes'.
        server.clock.advance(by: 901)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server))").first?.hasPrefix("OK") == true)
        let audit = try await admin.send("AUDIT limit=20")
        #expect(audit.filter { $0.contains("action=login-failed") && $0.contains("via=reauth-code") }.count == 5, "\(audit)")
        #expect(audit.contains { $0.contains("action=login-locked") })
        try await server.stop()
    }

    @Test("a recovery code stands in for a code once")
    func recoveryCodes() async throws {
        let (server, admin, _, recovery) = try await Self.serverWithFactor()
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(recovery[3])") == ["OK re-authenticated with the second factor for 5 minutes"])
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(recovery[3])") == Self.refused)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" aaaa-aaaa-aaaa-aaaa") == Self.refused)
        #expect(try await admin.send("MFA STATUS") == ["* login=admin@example.test factor=confirmed recovery=9 required=no", "OK"])
        try await server.stop()
    }

    @Test("neither the secret nor a recovery code is stored, journaled, snapshotted or audited in clear; the factor key is the daemon's alone")
    func noSecretAtRest() async throws {
        let (server, admin, secret, recovery) = try await Self.serverWithFactor()
        #expect(try await admin.send("SNAPSHOT").first?.hasPrefix("OK") == true)
        let audit = try await admin.send("AUDIT limit=50").joined(separator: "\n")
        let data = server.dataDirectory + "/data"
        var stored = ""
        for name in try FileManager.default.contentsOfDirectory(atPath: data) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: data + "/" + name))
            stored += String(decoding: bytes, as: UTF8.self)
        }
        #expect(stored.contains("sealedSecret"), "the factor is stored")
        for text in [Base32.encode(secret), Data(secret).base64EncodedString()] + recovery + recovery.map({ $0.replacingOccurrences(of: "-", with: "") }) {
            #expect(!stored.contains(text))
            #expect(!audit.contains(text))
        }
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/factor-key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // MFA STATUS shows the state, never the secret.
        let status = try await admin.send("MFA STATUS").joined()
        #expect(!status.contains(Base32.encode(secret)))
        try await server.stop()
    }

    @Test("who may see and reset a factor; the organisation's requirement for administrators")
    func administration() async throws {
        let (server, admin, secret, _) = try await Self.serverWithFactor()
        #expect(try await admin.send("ADD USER alice@example.test password=alice-pw").last?.hasPrefix("OK user alice@example.test added") == true)
        #expect(try await admin.send("ADD USER bob@example.test password=bob-pw").last?.hasPrefix("OK user bob@example.test added") == true)
        let alice = try await server.boundClient("alice@example.test", password: "alice-pw")
        let aliceSecret = try await Self.enroll(alice).secret
        #expect(try await alice.send("MFA CONFIRM 12345x").first?.hasPrefix("ERR invalid") == true)
        #expect(try await alice.send("MFA CONFIRM \(Self.code(aliceSecret, server))").last?.hasPrefix("OK second factor confirmed for alice@example.test") == true)
        #expect(try await alice.send("MFA STATUS admin@example.test") == ["ERR denied [own-entries-only] users may ask only about their own second factor"])
        #expect(try await alice.send("MFA REMOVE bob@example.test").first?.hasPrefix("ERR denied") == true)
        #expect(try await alice.send("MFA REMOVE admin@example.test").first?.hasPrefix("ERR denied") == true)
        #expect(try await admin.send("MFA STATUS alice@example.test") == ["* login=alice@example.test factor=confirmed recovery=10 required=no", "OK"])
        // The reset is a sensitive act for the super administrator, who has a factor.
        #expect(try await admin.send("MFA REMOVE alice@example.test").first?.hasPrefix("ERR reauth [second-factor]") == true)
        #expect(try await admin.send("REAUTH \"\(Self.password)\" \(Self.code(secret, server, steps: 1))").first?.hasPrefix("OK") == true)
        #expect(try await admin.send("MFA REMOVE alice@example.test").last?.hasPrefix("OK second factor of alice@example.test removed") == true)
        #expect(try await admin.send("MFA STATUS alice@example.test") == ["* login=alice@example.test factor=none recovery=0 required=no", "OK"])

        // Require a factor of administrators: bob, made one, can bind but not act until he enrols.
        #expect(try await admin.send("GRANT admin bob@example.test").last?.hasPrefix("OK bob@example.test is now an administrator") == true)
        #expect(try await admin.send("MODIFY ORG adminfactor=yes").last?.hasPrefix("OK organisation updated") == true)
        let bob = try await server.boundClient("bob@example.test", password: "bob-pw")
        #expect(try await bob.send("MFA STATUS") == ["* login=bob@example.test factor=none recovery=0 required=yes", "OK"])
        #expect(try await bob.send("ADD USER dave@example.test") == ["ERR denied [second-factor] the organisation requires a second factor of administrators: enrol one with MFA ENROLL and MFA CONFIRM first"])
        let bobSecret = try await Self.enroll(bob).secret
        #expect(try await bob.send("MFA CONFIRM \(Self.code(bobSecret, server))").first?.hasPrefix("OK") == true)
        #expect(try await bob.send("ADD USER dave@example.test").last?.hasPrefix("OK user dave@example.test added") == true)
        try await server.stop()
    }
}

/// Sessions over one directory whose daemons hold different factor keys: what a restore
/// without the old `factor-key` looks like.
@Suite("Second factor under another factor key")
struct SecondFactorKeyTests {
    static func session(_ committer: InMemoryCommitter, _ box: FactorSecretBox) -> Session {
        let environment = SessionEnvironment(
            committer: committer, passwords: PasswordService(hasher: TestServer.hasher, pool: SessionHandlerTests.pool),
            throttle: LoginThrottle(), clock: { TestServer.start }, factorBox: box
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return Session(environment: environment, peer: "192.0.2.1", logger: logger)
    }

    static func send(_ session: inout Session, _ line: String) async -> Reply {
        await session.handle(line: ByteBuffer(string: line)).0
    }

    @Test("a pending factor sealed under another key is never confirmed; a confirmed one still opens with a recovery code")
    func anotherKey() async throws {
        let committer = InMemoryCommitter(TestServer.directory())
        let bind = "BIND admin@example.test \"\(TestServer.adminPassword)\""
        var first = Self.session(committer, try #require(FactorSecretBox(key: FactorSecretBox.makeKey())))
        var second = Self.session(committer, try #require(FactorSecretBox(key: FactorSecretBox.makeKey())))
        #expect(await Self.send(&first, bind).status.isOK)
        #expect(await Self.send(&second, bind).status.isOK)

        let pending = await Self.send(&first, "MFA ENROLL")
        let secret = try #require(pending.records.first?["secret"].flatMap(Base32.decode))
        let code = TOTP.code(secret: secret, step: TOTP.step(at: TestServer.start))
        let refused = await Self.send(&second, "MFA CONFIRM \(code)")
        guard case .error(.conflict, _) = refused.status else {
            Issue.record("\(refused.status)")
            return
        }
        #expect(await Self.send(&second, "MFA STATUS").records.first?["factor"] == "pending")

        let enrolled = await Self.send(&first, "MFA ENROLL")
        let newSecret = try #require(enrolled.records.first?["secret"].flatMap(Base32.decode))
        let recovery = try #require(enrolled.records.dropFirst().first?["recovery"])
        #expect(await Self.send(&first, "MFA CONFIRM \(TOTP.code(secret: newSecret, step: TOTP.step(at: TestServer.start)))").status.isOK)
        // The right code can't be checked under the other key; a recovery code needs no key.
        let next = TOTP.code(secret: newSecret, step: TOTP.step(at: TestServer.start) + 1)
        #expect(await Self.send(&second, "REAUTH \"\(TestServer.adminPassword)\" \(next)").status == Session.invalidCredentials.status)
        #expect(await Self.send(&second, "REAUTH \"\(TestServer.adminPassword)\" \(recovery)").status.isOK)
    }
}
