@testable import DeputyServer
@testable import DeputyMailAdapters
import Foundation
import Testing

@Suite("Dovecot auth protocol")
struct DovecotAuthTests {
    private func command(_ line: String) throws -> DovecotAuthCommand {
        try DovecotAuthCommand(line: Array(line.utf8))
    }

    private func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test("tab escaping both ways")
    func escaping() {
        let cases: [(String, String)] = [("a\tb", "a\u{1}tb"), ("\u{1}", "\u{1}1"), ("\r\n", "\u{1}r\u{1}n"), ("\0", "\u{1}0"), ("plain", "plain")]
        for (plain, escaped) in cases {
            #expect(DovecotTabEscaping.escape(plain) == escaped)
            #expect(DovecotTabEscaping.unescape(Array(escaped.utf8)) == plain)
        }
        #expect(DovecotTabEscaping.unescape(Array("a\u{1}xb\u{1}".utf8)) == "axb")
        #expect(DovecotTabEscaping.fields(of: Array("A\tb\u{1}tc\t".utf8)) == ["A", "b\tc", ""])
    }

    @Test("client lines parse")
    func lines() throws {
        #expect(try command("VERSION\t1\t2") == .version(major: 1, minor: 2))
        #expect(try command("CPID\t4711") == .clientProcess("4711"))
        guard case .authenticate(let request) = try command("AUTH\t7\tplain\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.9\tsecured\tresp=AGEAYg==") else {
            Issue.record("not an AUTH")
            return
        }
        #expect(request.id == 7)
        #expect(request.mechanism == "PLAIN")
        #expect(request.parameters["service"] == "smtp")
        #expect(request.parameters["nologin"] == "")
        #expect(request.remoteAddress == "192.0.2.9")
        #expect(request.initialResponse == "AGEAYg==")
        #expect(try command("CONT\t7\tYQ==") == .continue(id: 7, response: "YQ=="))
        #expect(try command("CONT\t7") == .continue(id: 7, response: ""))
        #expect(try command("CANCEL\t7") == .other("CANCEL"))
        for bad in ["VERSION\t1", "VERSION\tx\t2", "AUTH\t1", "AUTH\tx\tPLAIN", "CONT", "CONT\t-1\tYQ==", "CPID"] {
            #expect(throws: MailAdapterError.self, "\(bad)") { try command(bad) }
        }
    }

    @Test("the handshake lists both mechanisms and ends with DONE")
    func handshake() {
        let lines = DovecotAuthMachine.handshake(processID: 42, connectionID: 7, cookie: String(repeating: "ab", count: 16))
        #expect(lines == [
            "VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "SPID\t42", "CUID\t7",
            "COOKIE\t" + String(repeating: "ab", count: 16), "DONE",
        ])
        let cookie = DovecotAuthServerIdentity().cookie
        #expect(cookie.count == 32 && cookie.allSatisfy(\.isHexDigit))
    }

    @Test("PLAIN with an initial response asks for a check")
    func plain() throws {
        var machine = DovecotAuthMachine()
        #expect(machine.received(try command("VERSION\t1\t2")) == .none)
        #expect(machine.received(try command("CPID\t1")) == .none)
        let action = machine.received(try command("AUTH\t1\tPLAIN\tservice=smtp\trip=192.0.2.9\tresp=\(base64("\0bob@x.test\0secret"))"))
        let expected = DovecotAuthMachine.Credentials(id: 1, login: "bob@x.test", password: "secret", remoteAddress: "192.0.2.9")
        #expect(action == .verify(expected))
        #expect(machine.finish(expected, outcome: .success(login: "bob@x.test")) == "OK\t1\tuser=bob@x.test")
        #expect(machine.finish(expected, outcome: .failure(login: "bob@x.test")) == "FAIL\t1\tuser=bob@x.test")
        #expect(machine.finish(expected, outcome: .temporaryFailure(reason: "not ready")) == "FAIL\t1\ttemp\treason=not ready")
    }

    @Test("PLAIN without an initial response gets an empty challenge first")
    func plainContinued() throws {
        var machine = DovecotAuthMachine()
        _ = machine.received(try command("VERSION\t1\t2"))
        #expect(machine.received(try command("AUTH\t3\tPLAIN\tservice=smtp")) == .reply("CONT\t3\t"))
        #expect(machine.received(try command("CONT\t3\t\(base64("bob\0bob\0pw"))")) == .verify(.init(id: 3, login: "bob", password: "pw", remoteAddress: nil)))
        // Authorising as someone else is refused without a check.
        #expect(machine.received(try command("AUTH\t4\tPLAIN\tresp=\(base64("boss\0bob\0pw"))")) == .reply("FAIL\t4\tuser=bob\treason=authorization identity not supported"))
        #expect(machine.received(try command("AUTH\t5\tPLAIN\tresp=\(base64("bob\0pw"))")) == .reply("FAIL\t5\treason=malformed PLAIN response"))
        #expect(machine.received(try command("AUTH\t6\tPLAIN\tresp=***")) == .reply("FAIL\t6\treason=invalid base64 data"))
    }

    @Test("LOGIN prompts Username: then Password:, as Dovecot does")
    func login() throws {
        var machine = DovecotAuthMachine()
        _ = machine.received(try command("VERSION\t1\t1"))
        #expect(machine.received(try command("AUTH\t9\tLOGIN\tservice=smtp")) == .reply("CONT\t9\tVXNlcm5hbWU6"))
        #expect(machine.received(try command("CONT\t9\t\(base64("bob@x.test"))")) == .reply("CONT\t9\tUGFzc3dvcmQ6"))
        #expect(machine.received(try command("CONT\t9\t\(base64("secret"))")) == .verify(.init(id: 9, login: "bob@x.test", password: "secret", remoteAddress: nil)))
        // The request is over: another CONT for it is refused.
        #expect(machine.received(try command("CONT\t9\t\(base64("again"))")) == .reply("FAIL\t9\treason=unknown request"))
        // With the username as the initial response, the first prompt is skipped.
        #expect(machine.received(try command("AUTH\t10\tLOGIN\tresp=\(base64("bob@x.test"))")) == .reply("CONT\t10\tUGFzc3dvcmQ6"))
        #expect(machine.received(try command("AUTH\t11\tCRAM-MD5")) == .reply("FAIL\t11\treason=unsupported authentication mechanism"))
    }

    @Test("a wrong major version or a missing VERSION closes the connection")
    func versions() throws {
        var machine = DovecotAuthMachine()
        guard case .close(let error) = machine.received(try command("VERSION\t2\t0")) else {
            Issue.record("not closed")
            return
        }
        #expect(error.code == .unsupportedVersion)
        var other = DovecotAuthMachine()
        guard case .close = other.received(try command("AUTH\t1\tPLAIN")) else {
            Issue.record("not closed")
            return
        }
    }

    @Test("too many authentications in progress close the connection")
    func pendingLimit() throws {
        var machine = DovecotAuthMachine()
        _ = machine.received(try command("VERSION\t1\t2"))
        for id in 1...MailAdapterDefaults.authMaximumPendingRequests {
            #expect(machine.received(try command("AUTH\t\(id)\tLOGIN")) == .reply("CONT\t\(id)\tVXNlcm5hbWU6"))
        }
        #expect(machine.received(try command("AUTH\t1\tLOGIN")) == .reply("FAIL\t1\treason=duplicate request id"))
        guard case .close(let error) = machine.received(try command("AUTH\t99\tLOGIN")) else {
            Issue.record("not closed")
            return
        }
        #expect(error.code == .overLimit)
    }
}
