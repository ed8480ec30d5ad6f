import DeputyMailAdapters
import DeputyCheckpassword
import DeputyCore
import DeputyServer
import Foundation
import Testing

/// `deputy-checkpassword`'s two halves: what Dovecot hands it, and the auth conversation
/// with deputyd's `--dovecot-auth` listener.
@Suite("Checkpassword")
struct CheckpasswordTests {
    @Test("descriptor 3 and the environment make a request; a lookup has no password; garbage is refused")
    func requests() throws {
        let request = try #require(CheckpasswordRequest(
            input: Array("Bob@Example.test\0s3cret\0\0".utf8),
            environment: ["SERVICE": "pop3", "TCPREMOTEIP": "192.0.2.7", "TCPLOCALIP": "192.0.2.1"]
        ))
        #expect(request.login == "Bob@Example.test" && request.password == "s3cret" && request.service == "pop3")
        #expect(request.remoteAddress == "192.0.2.7" && request.localAddress == "192.0.2.1")
        let lookup = try #require(CheckpasswordRequest(input: Array("bob@example.test\0\0\0".utf8), environment: ["AUTHORIZED": "1"]))
        #expect(lookup.password == nil && lookup.service == "imap")
        #expect(CheckpasswordRequest(input: Array("\0pw\0".utf8), environment: [:]) == nil)
        #expect(CheckpasswordRequest(input: Array("nozero".utf8), environment: [:]) == nil)
    }

    @Test("against deputyd: the canonical login on a right password, a refusal otherwise, a temporary failure when deputyd can't answer")
    func againstTheAuthListener() async throws {
        let server = try await MailTestServer.launch()
        let client = DovecotAuthClient(endpoint: .tcp(host: "127.0.0.1", port: try server.port(.dovecotAuth)), timeout: 10)
        func check(_ login: String, _ password: String?, remote: String = "192.0.2.9") async -> CheckpasswordOutcome {
            let input = Array("\(login)\0\(password ?? "")\0\0".utf8)
            let request = CheckpasswordRequest(input: input, environment: password == nil ? ["AUTHORIZED": "1"] : ["SERVICE": "imap", "TCPREMOTEIP": remote])!
            // The client blocks; run it off the cooperative threads the server uses.
            return await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: client.check(request)) }
            }
        }
        #expect(await check("Reader@Example.TEST", MailFixture.password) == .accepted(login: "reader@example.test"))
        #expect(await check("reader@example.test", "wrong") == .refused)
        #expect(await check("blockeduser@example.test", MailFixture.password) == .refused)
        #expect(await check("ghost@example.test", MailFixture.password) == .refused)
        if case .temporaryFailure = await check("reader@example.test", nil) {} else { Issue.record("a lookup must fail temporarily") }
        // The client's address reached deputyd's throttle and audit.
        let failures = server.committer.live.directory.auditLog.all.filter { $0.action == "login-failed" && $0.target == "reader@example.test" }
        #expect(failures.map(\.detail) == ["source=192.0.2.9 via=dovecot-auth"])
        server.readiness.set(false)
        #expect(await check("reader@example.test", MailFixture.password) == .temporaryFailure("directory not ready"))
        try await server.stop()
        if case .temporaryFailure(let reason) = await check("reader@example.test", MailFixture.password) {
            #expect(reason.contains("can't connect to deputyd"), "\(reason)")
        } else {
            Issue.record("an unreachable deputyd must be a temporary failure")
        }
        #expect(CheckpasswordOutcome.refused.exitStatus == 1 && CheckpasswordOutcome.temporaryFailure("x").exitStatus == 111)
        #expect(DovecotAuthClient.Endpoint("[::1]:7641") == .tcp(host: "::1", port: 7641))
        #expect(DovecotAuthClient.Endpoint("/run/deputy/auth") == .unix(path: "/run/deputy/auth"))
        #expect(DovecotAuthClient.Endpoint("7641") == nil && DovecotAuthClient.Endpoint("host:99999") == nil)
    }
}
