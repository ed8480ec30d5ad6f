import Foundation
import Glibc
import Testing

/// The real Dovecot from Debian, configured with the very blocks docs/dovecot.md shows, and
/// the real deputyd running as its own user: IMAP and POP3 logins, shared mailboxes with the
/// rights of each delegation, and a delegation's end, through Python's imaplib and poplib.
@Suite("Dovecot IMAP end to end", .serialized)
struct DovecotIMAPTests {
    @Test("logins, shared mailboxes and rights come from the directory, and a removed delegation closes the mailbox")
    func imapFromTheDirectory() async throws {
        let lab = try await DovecotLab.start()
        defer { lab.stop() }

        let admin = try await lab.adminClient()
        // The organisation is revision 1; each change here makes the next.
        for (index, (user, password)) in ["alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw", "erin": "erin-pw"].enumerated() {
            #expect(try await admin.send("ADD USER \(user)@example.test password=\(password)") == ["OK user \(user)@example.test added (revision \(index + 2))"])
        }
        #expect(try await admin.send("MODIFY USER erin@example.test blocked=yes") == ["OK erin@example.test blocked (revision 7)"])
        #expect(try await admin.send("DELEGATE alice@example.test bob@example.test read,sendas") == ["OK alice@example.test delegated to bob@example.test with read,sendas (revision 8)"])
        #expect(try await admin.send("DELEGATE alice@example.test carol@example.test manage") == ["OK alice@example.test delegated to carol@example.test with read,manage (revision 9)"])
        // Logins with characters Dovecot refuses by default (auth_username_chars), which the
        // directory accepts: a plus in a shared mailbox's name, an apostrophe in a surname.
        #expect(try await admin.send("ADD USER sales+eu@example.test password=sales-pw") == ["OK user sales+eu@example.test added (revision 10)"])
        #expect(try await admin.send("DELEGATE sales+eu@example.test carol@example.test read") == ["OK sales+eu@example.test delegated to carol@example.test with read (revision 11)"])
        #expect(try await admin.send("ADD USER o'brien@example.test password=obrien-pw") == ["OK user o'brien@example.test added (revision 12)"])

        let observed = try await lab.runScenario()
        // alice's INBOX holds three messages.
        #expect(observed["alice_count"] as? Int == 3)
        // bob (read): lists and opens alice's mailbox, reads a message, can't expunge.
        #expect((observed["bob_list"] as? [String] ?? []).contains { $0.hasSuffix("\"shared/alice@example.test\"") || $0.hasSuffix(" shared/alice@example.test") }, "\(observed["bob_list"] ?? "")")
        #expect(observed["bob_select"] as? String == "OK")
        #expect(observed["bob_rights"] as? String == "lrs")
        #expect((observed["bob_fetch"] as? String)?.contains("Subject: Hello 0") == true, "\(observed["bob_fetch"] ?? "")")
        #expect(observed["after_bob_expunge"] as? Int == 3, "bob's EXPUNGE removed a message")
        #expect((observed["bob_append"] as? String)?.hasPrefix("NO") == true)
        // carol (manage): moves one to her own INBOX and expunges another.
        #expect(observed["carol_select"] as? String == "OK")
        #expect(observed["carol_move"] as? String == "OK")
        #expect(observed["carol_expunge"] as? String == "OK")
        #expect(observed["after_carol"] as? Int == 1)
        #expect(observed["carol_own_count"] as? Int == 1)
        // Every address the directory accepts logs in, and its mailbox opens to its delegates.
        #expect(observed["plus_login"] as? String == "OK", "\(observed["plus_login"] ?? "")")
        #expect(observed["apostrophe_login"] as? String == "OK", "\(observed["apostrophe_login"] ?? "")")
        #expect(observed["carol_select_plus"] as? String == "OK", "\(observed["carol_select_plus"] ?? "")")
        // dave (nothing): sees nothing shared, and can't open it by name.
        #expect(observed["dave_select"] as? String == "NO")
        #expect((observed["dave_list"] as? [String] ?? []).allSatisfy { !$0.contains("shared") })
        // The owner can't grant rights outside the directory.
        #expect(observed["alice_setacl"] as? String == "NO")
        // A blocked user can't log in, over IMAP or POP3; alice can over POP3.
        #expect((observed["erin_imap"] as? String)?.hasPrefix("NO") == true)
        #expect((observed["erin_pop3"] as? String)?.hasPrefix("NO") == true)
        #expect(observed["alice_pop3"] as? String == "OK")
        // Wrong passwords fail and lock bob out of IMAP from that address only.
        #expect((observed["bob_wrong"] as? [String] ?? []).allSatisfy { $0.hasPrefix("NO") } && (observed["bob_wrong"] as? [String])?.count == 2)
        #expect((observed["bob_right_after_lock"] as? String)?.hasPrefix("NO") == true)
        #expect(observed["bob_right_elsewhere"] as? String == "OK")
        // After UNDELEGATE, bob's SELECT fails within a few seconds, with no doveadm step.
        let revocation = try #require(observed["revocation_seconds"] as? Double, "bob could still SELECT 10 s after UNDELEGATE")
        #expect(revocation < 5)
        print("bob's SELECT failed \(String(format: "%.2f", revocation)) s after UNDELEGATE was answered")

        // deputyd's audit log holds the IMAP failures, with the client's address and the way in.
        let audit = try await admin.send("AUDIT target=bob@example.test limit=100")
        #expect(audit.filter { $0.contains("action=login-failed") && $0.contains("source=127.0.3.1 via=dovecot-auth") }.count == 2, "\(audit)")
        #expect(audit.contains { $0.contains("action=login-locked") && $0.contains("locked=login-from-source") }, "\(audit)")

        // Rights can't be set by hand: doveadm says why and fails.
        let set = try await ExternalTool.run("doveadm", ["-c", lab.configuration, "acl", "set", "-u", "alice@example.test", "INBOX", "user=dave@example.test", "lookup", "read"])
        #expect(set.status != 0)
        #expect(set.stderr.contains("No local acl file path"), "\(set.stderr)")
        let rights = try await ExternalTool.run("doveadm", ["-c", lab.configuration, "acl", "rights", "-u", "carol@example.test", "shared/alice@example.test"])
        #expect(rights.status == 0 && rights.stdout.contains("expunge"), "\(rights.stdout) \(rights.stderr)")
    }
}

/// A Dovecot and a deputyd in a temporary directory, wired as docs/dovecot.md says.
struct DovecotLab {
    let root: String
    let configuration: String
    let imapPort: Int
    let pop3Port: Int
    let deputyPlainPort: Int
    let adminPassword: String
    let deputyd: pid_t
    let dovecot: pid_t

    /// The block of docs/dovecot.md marked `<!-- dovecot-config: 90-deputy.conf -->`.
    static func documentedBlock() throws -> String {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/dovecot.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        guard let marker = text.range(of: "<!-- dovecot-config: 90-deputy.conf -->"),
            let open = text.range(of: "```\n", range: marker.upperBound..<text.endIndex),
            let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex)
        else { throw TestFailure("docs/dovecot.md lost its 90-deputy.conf block") }
        return String(text[open.upperBound..<close.lowerBound]) + "\n"
    }

    static func start() async throws -> DovecotLab {
        guard getuid() == 0 else { throw TestFailure("the Dovecot test runs Dovecot and deputyd as their own users, which needs root (CI runs as root)") }
        for program in ["/usr/sbin/dovecot", "/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3", "/usr/lib/dovecot/checkpassword-reply"] where !FileManager.default.isExecutableFile(atPath: program) {
            throw TestFailure("\(program) is missing: apt-get install dovecot-core dovecot-imapd dovecot-pop3d")
        }
        // The users of the documented setup: deputyd as deputy, mail as vmail.
        for command in [
            "getent group deputy >/dev/null || groupadd --system deputy",
            "getent passwd deputy >/dev/null || useradd --system -g deputy -d /nonexistent -s /usr/sbin/nologin deputy",
            "getent passwd vmail >/dev/null || useradd --system -U -d /nonexistent -s /usr/sbin/nologin vmail",
        ] {
            let result = try await ProcessRunner.run("/bin/sh", ["-c", command])
            guard result.status == 0 else { throw TestFailure("\(command): \(result.error)") }
        }
        let root = "/tmp/deputy-dovecot-" + UUID().uuidString.prefix(8).lowercased()
        let run = root + "/run"
        let deputyRun = root + "/deputy-run"
        let data = root + "/data"
        let mail = root + "/vmail"
        for (path, owner, mode) in [(root, "root:root", "0755"), (run, "root:root", "0755"), (deputyRun, "deputy:deputy", "0750"), (data, "deputy:deputy", "0700"), (mail, "vmail:vmail", "0755"), (root + "/bin", "root:root", "0755")] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            _ = try await ProcessRunner.run("/bin/chown", [owner, path])
            _ = try await ProcessRunner.run("/bin/chmod", [mode, path])
        }
        // Dovecot runs the checkpassword program as its own user: a copy it can reach.
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let checkpassword = root + "/bin/deputy-checkpassword"
        try FileManager.default.copyItem(atPath: binaries.appendingPathComponent("deputy-checkpassword").path, toPath: checkpassword)
        _ = try await ProcessRunner.run("/bin/chmod", ["0755", checkpassword])

        let authPort = try freePort()
        let plainPort = try freePort()
        let imapPort = try freePort()
        let pop3Port = try freePort()
        let password = "admin-" + UUID().uuidString.prefix(12)
        let log = root + "/deputyd.log"
        let pid = try ProcessRunner.spawnDetached(
            "/usr/bin/setpriv",
            ["--reuid=deputy", "--regid=deputy", "--init-groups", "--", SecurityDaemon.binary, "serve", "--data", data,
             "--listen", "127.0.0.1:0", "--plain-listen", "127.0.0.1:\(plainPort)", "--dovecot-auth", "127.0.0.1:\(authPort)",
             "--dovecot-dict", deputyRun + "/dict", "--dovecot-acl", deputyRun + "/dovecot-acl", "--lockout-failures", "2",
             "--log-level", "info"],
            outputFile: log, environment: ["DEPUTY_INITIAL_PASSWORD": password]
        )
        // Ready once the plaintext listener answers.
        var ready = false
        for _ in 0..<3_000 where !ready {
            if let client = try? await LineClient.connect(port: plainPort, tls: nil) {
                await client.close()
                ready = true
            }
            if kill(pid, 0) != 0 { throw TestFailure("deputyd exited: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard ready else { throw TestFailure("deputyd did not start") }

        // The documented block, its production paths moved into the lab.
        let block = try documentedBlock()
            .replacingOccurrences(of: "/usr/local/bin/deputy-checkpassword", with: checkpassword)
            .replacingOccurrences(of: "127.0.0.1:7641", with: "127.0.0.1:\(authPort)")
            .replacingOccurrences(of: "/run/deputy/", with: deputyRun + "/")
            .replacingOccurrences(of: "/var/vmail", with: mail)
        let harness = """
            base_dir = \(run)
            state_dir = \(root)/state
            log_path = \(root)/dovecot.log
            listen = 127.0.0.1
            protocols = imap pop3
            ssl = no
            disable_plaintext_auth = no
            auth_failure_delay = 0
            service imap-login {
              inet_listener imap {
                port = \(imapPort)
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = \(pop3Port)
              }
              inet_listener pop3s {
                port = 0
              }
            }
            !include 90-deputy.conf

            """
        try block.write(toFile: root + "/90-deputy.conf", atomically: true, encoding: .utf8)
        let configuration = root + "/dovecot.conf"
        try harness.write(toFile: configuration, atomically: true, encoding: .utf8)
        // In the foreground, so that it holds no pipe of ours and stops with its process.
        let master = try ProcessRunner.spawnDetached(try ExternalTool.path("dovecot"), ["-F", "-c", configuration], outputFile: root + "/dovecot.out")
        let lab = DovecotLab(
            root: root, configuration: configuration, imapPort: imapPort, pop3Port: pop3Port, deputyPlainPort: plainPort,
            adminPassword: password, deputyd: pid, dovecot: master
        )
        for _ in 0..<3_000 {
            if let client = try? await LineClient.connect(port: imapPort, tls: nil) {
                await client.close()
                return lab
            }
            if kill(master, 0) != 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        lab.stop()
        throw TestFailure("dovecot did not listen: \((try? String(contentsOfFile: root + "/dovecot.log", encoding: .utf8)) ?? "")")
    }

    func stop() {
        kill(dovecot, SIGTERM)
        kill(deputyd, SIGTERM)
    }

    func adminClient() async throws -> LineClient {
        let client = try await LineClient.connect(port: deputyPlainPort, tls: nil)
        let reply = try await client.send("BIND admin@example.test \(adminPassword)")
        guard reply == ["OK bound as admin@example.test"] else { throw TestFailure("BIND as admin: \(reply)") }
        return client
    }

    /// Runs the client side in Python and returns what it saw.
    func runScenario() async throws -> [String: Any] {
        let script = root + "/scenario.py"
        try Self.scenario.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await ExternalTool.run("python3", [script, String(imapPort), String(pop3Port), String(deputyPlainPort), adminPassword], seconds: 180)
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw TestFailure("the IMAP scenario failed: \(result.stdout) \(result.stderr) \((try? String(contentsOfFile: root + "/dovecot.log", encoding: .utf8)) ?? "")")
        }
        return object
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The IMAP and POP3 clients. Failing logins come from addresses of their own (any of
    /// 127.0.0.0/8), since Dovecot slows every later login from an address that failed.
    static let scenario = #"""
        import imaplib, poplib, json, socket, sys, time
        H = "127.0.0.1"
        IMAP, POP3, DEPUTY, ADMIN = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        A = '"shared/alice@example.test"'
        obs = {}

        class From(imaplib.IMAP4):
            def __init__(self, source):
                self.source = source
                super().__init__(H, IMAP)
            def _create_socket(self, timeout):
                return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))

        def login(user, password, source="127.0.0.1"):
            client = From(source)
            client.login(user + "@example.test", password)
            return client

        def attempt(user, password, source):
            try:
                login(user, password, source).logout()
                return "OK"
            except imaplib.IMAP4.error as error:
                return "NO " + str(error)

        a = login("alice", "alice-pw")
        a.create("Projects")
        for i in range(3):
            a.append("INBOX", None, None, b"From: x@example.test\r\nSubject: Hello %d\r\n\r\nBody %d\r\n" % (i, i))
        obs["alice_count"] = int(a.select("INBOX")[1][0])
        obs["alice_setacl"] = a.setacl("INBOX", "dave@example.test", "lr")[0]

        b = login("bob", "bob-pw")
        obs["bob_list"] = [line.decode() for line in b.list()[1]]
        typ, data = b.select(A)
        obs["bob_select"] = typ
        obs["bob_rights"] = b.myrights(A)[1][0].decode().split()[-1]
        typ, data = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        obs["bob_fetch"] = data[0][1].decode() if typ == "OK" else typ
        b.store("1", "+FLAGS", "(\\Deleted)")
        try:
            b.expunge()
        except imaplib.IMAP4.error:
            pass
        obs["bob_append"] = " ".join([b.append(A, None, None, b"Subject: from bob\r\n\r\nx\r\n")[0]])
        obs["after_bob_expunge"] = int(a.select("INBOX")[1][0])

        c = login("carol", "carol-pw")
        obs["carol_select"] = c.select(A)[0]
        obs["carol_move"] = c._simple_command("MOVE", "1", "INBOX")[0]
        c.select(A)
        c.store("1", "+FLAGS", "(\\Deleted)")
        obs["carol_expunge"] = c.expunge()[0]
        obs["carol_own_count"] = int(c.select("INBOX")[1][0])
        c.logout()
        obs["after_carol"] = int(a.select("INBOX")[1][0])
        a.logout()

        try:
            p = login("sales+eu", "sales-pw")
            p.append("INBOX", None, None, b"From: x@example.test\r\nSubject: For sales\r\n\r\nBody\r\n")
            p.logout()
            obs["plus_login"] = "OK"
        except imaplib.IMAP4.error as error:
            obs["plus_login"] = "NO " + str(error)
        obs["apostrophe_login"] = attempt("o'brien", "obrien-pw", "127.0.0.1")
        c = login("carol", "carol-pw")
        try:
            obs["carol_select_plus"] = c.select('"shared/sales+eu@example.test"')[0]
        except imaplib.IMAP4.error as error:
            obs["carol_select_plus"] = "NO " + str(error)
        c.logout()

        d = login("dave", "dave-pw")
        obs["dave_list"] = [line.decode() for line in d.list()[1] if line]
        obs["dave_select"] = d.select(A)[0]
        d.logout()

        obs["erin_imap"] = attempt("erin", "erin-pw", "127.0.2.1")
        class POP3From(poplib.POP3):
            def __init__(self, source):
                self.source = source
                super().__init__(H, POP3)
            def _create_socket(self, timeout):
                return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))

        def pop3(user, password, source):
            client = POP3From(source)
            try:
                client.user(user + "@example.test")
                client.pass_(password)
                client.quit()
                return "OK"
            except poplib.error_proto as error:
                return "NO " + str(error)
        obs["alice_pop3"] = pop3("alice", "alice-pw", "127.0.0.1")
        obs["erin_pop3"] = pop3("erin", "erin-pw", "127.0.2.2")

        obs["bob_wrong"] = [attempt("bob", "wrong", "127.0.3.1") for _ in range(2)]
        obs["bob_right_after_lock"] = attempt("bob", "bob-pw", "127.0.3.1")
        obs["bob_right_elsewhere"] = attempt("bob", "bob-pw", "127.0.0.1")

        # The delegation ends: bob's open session selects alice's mailbox again every 50 ms.
        b.select(A)
        deputy = socket.create_connection((H, DEPUTY))
        stream = deputy.makefile("rwb")
        stream.readline()
        for line in ("BIND admin@example.test " + ADMIN, "UNDELEGATE alice@example.test bob@example.test"):
            stream.write((line + "\n").encode())
            stream.flush()
            reply = stream.readline().decode()
            if not reply.startswith("OK"):
                raise SystemExit("deputyd answered " + reply)
        start = time.monotonic()
        while time.monotonic() - start < 10:
            try:
                if b.select(A)[0] != "OK":
                    obs["revocation_seconds"] = time.monotonic() - start
                    break
            except imaplib.IMAP4.error:
                obs["revocation_seconds"] = time.monotonic() - start
                break
            time.sleep(0.05)
        b.logout()
        print(json.dumps(obs))
        """#
}
