import DeputyServer
import Foundation
import Testing

/// `deputy` end to end: every subcommand against a real daemon over TLS.
@Suite("The deputy client")
struct DeputyCLITests {
    @Test("users, groups, roles, delegations, policies, the organisation: plain output and exit codes")
    func subcommands() async throws {
        let cli = try await CLIHarness.start()
        let newPassword = try cli.write("alice-secret-pw\n", to: "alice-password")
        let steps: [([String], Int32, String)] = [
            (["user", "add", "alice@example.test", "--name", "Alice Liddell", "--alias", "al@example.test", "--new-password-file", newPassword], 0, ""),
            (["user", "add", "bob@example.test"], 0, ""),
            (["user", "add", "bob@example.test"], 2, ""),
            (["user", "modify", "bob@example.test", "--name", "Robert"], 0, ""),
            (["user", "show", "bob@example.test"], 0, "cn=Robert"),
            (["user", "list"], 0, "mail=alice@example.test"),
            (["user", "block", "bob@example.test"], 0, ""),
            (["user", "unblock", "bob@example.test"], 0, ""),
            (["group", "add", "team@example.test", "--name", "Team", "--member", "bob@example.test", "--send-as"], 0, ""),
            (["group", "add-member", "team@example.test", "alice@example.test"], 0, ""),
            (["group", "members", "team@example.test"], 0, "member=alice@example.test kind=user blocked=no\nmember=bob@example.test kind=user blocked=no\n"),
            (["group", "remove-member", "team@example.test", "alice@example.test"], 0, ""),
            (["group", "modify", "team@example.test", "--send-as", "no"], 0, ""),
            (["group", "show", "team@example.test"], 0, "sendas=no"),
            (["role", "grant", "helpdesk", "bob@example.test"], 0, ""),
            (["role", "revoke", "helpdesk", "bob@example.test"], 0, ""),
            (["role", "grant", "admin", "bob@example.test"], 0, ""),
            (["role", "revoke", "admin", "bob@example.test"], 0, ""),
            (["delegation", "add", "alice@example.test", "bob@example.test", "--permissions", "read,sendas", "--expires", "2027-01-01T00:00:00Z"], 0, ""),
            (["delegation", "show", "alice@example.test"], 0, "delegate=bob@example.test"),
            (["delegation", "list"], 0, "mailbox=alice@example.test"),
            (["query", "sendas", "bob@example.test", "al@example.test"], 0, "allowed=yes via=delegation from=alice@example.test grant=5\n"),
            (["query", "sendas", "alice@example.test", "bob@example.test"], 1, "allowed=no via=none reason=lacks-permission\n"),
            (["query", "sendonbehalf", "bob@example.test", "alice@example.test"], 0, "allowed=yes"),
            (["query", "access", "bob@example.test", "alice@example.test"], 0, "permissions=read,sendas"),
            (["query", "delegates", "alice@example.test"], 0, "delegate=bob@example.test"),
            (["query", "mailboxes", "bob@example.test"], 0, "mailbox=alice@example.test"),
            (["query", "senders", "alice@example.test"], 0, "login=bob@example.test"),
            (["query", "holders", "alice@example.test", "--permission", "sendas"], 0, "login=alice@example.test permission=sendas via=own\nlogin=bob@example.test permission=sendas via=delegation from=alice@example.test grant=5\n"),
            (["query", "holders", "alice@example.test", "--permission", "everything"], 64, ""),
            (["query", "rights", "bob@example.test"], 0, "mailbox=alice@example.test permission=sendas via=delegation"),
            (["query", "search", "(cn=Alice*)"], 0, "uid=alice"),
            (["query", "privileges", "alice@example.test"], 0, "role=user"),
            (["query", "members", "team@example.test"], 0, "member=bob@example.test"),
            (["query", "entry", "uid=alice,ou=users,dc=example,dc=test"], 0, "mail=alice@example.test"),
            (["delegation", "remove", "alice@example.test", "bob@example.test"], 0, ""),
            (["query", "sendas", "bob@example.test", "alice@example.test"], 1, "allowed=no"),
            (["policy", "set", "strict", "--delegation", "off"], 0, ""),
            (["policy", "set", "strict", "--delegation", "on"], 0, ""),
            (["policy", "show"], 0, "policy=strict delegation=on default=no"),
            (["org", "set", "--org-groups", "all"], 0, ""),
            (["org", "show"], 0, "orggroups=all"),
            (["org", "set", "--audit-days", "365"], 0, ""),
            (["org", "show"], 0, "auditdays=365"),
            (["audit", "--limit", "1"], 0, "action=modify-organization"),
            (["whoami"], 0, "login=admin@example.test"),
            (["ping"], 0, "deputyd \(DeputyVersion.current) ready"),
            (["raw", "QUERY SENDAS alice@example.test al@example.test"], 0, "* allowed=yes via=alias\nOK\n"),
            (["group", "delete", "team@example.test"], 0, ""),
            (["user", "delete", "bob@example.test"], 0, ""),
            (["query", "sendas", "nobody", "alice@example.test"], 1, "via=unknown-login"),
        ]
        for (arguments, status, output) in steps {
            let result = try await cli.run(arguments + ["-o", "plain"])
            #expect(result.status == status, "\(arguments): \(result.error)")
            if !output.isEmpty { #expect(result.output.contains(output), "\(arguments): \(result.output)") }
        }
        // The new user's password works.
        let login = try await cli.run(["whoami", "--server", cli.serverAddress, "--ca", cli.caFile, "--user", "alice@example.test", "-o", "plain"], connection: false, password: "alice-secret-pw")
        #expect(login.output.contains("login=alice@example.test"), "\(login.error)")
        try await cli.stop()
    }

    @Test("json and table output; messages on stderr, data on stdout")
    func outputFormats() async throws {
        let cli = try await CLIHarness.start()
        _ = try await cli.run(["user", "add", "carol@example.test", "--alias", "c@example.test"])
        let json = try await cli.run(["query", "privileges", "carol@example.test", "-o", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == true)
        #expect((object?["records"] as? [[String: Any]])?.first?["role"] as? String == "user")
        let entry = try await cli.run(["user", "show", "carol@example.test", "-o", "json"])
        let record = ((try JSONSerialization.jsonObject(with: Data(entry.output.utf8)) as? [String: Any])?["records"] as? [[String: Any]])?.first
        #expect(record?["objectclass"] as? [String] == ["top", "person", "inetorgperson", "deputyuser"])
        let table = try await cli.run(["group", "members", "nobody@example.test", "-o", "table"])
        #expect(table.status == 5, "not found has a status of its own")
        #expect(table.output.isEmpty)
        #expect(table.error.contains("error (notfound): no group has the address nobody@example.test"))
        let added = try await cli.run(["user", "add", "dave@example.test", "-o", "table"])
        #expect(added.output.isEmpty)
        #expect(added.error == "user dave@example.test added (revision 3)\n")
        let listing = try await cli.run(["query", "mailboxes", "carol@example.test", "-o", "table"])
        #expect(listing.output.hasPrefix("MAILBOX             OWNER  PERMISSIONS\ncarol@example.test  yes    read,manage,sendonbehalf,sendas\n"), "\(listing.output)")
        try await cli.stop()
    }

    @Test("trust: a matching pin, a wrong pin, and the known-hosts flow")
    func trust() async throws {
        let cli = try await CLIHarness.start()
        let pin = cli.server.certificate.fingerprint
        let base = ["whoami", "--server", cli.serverAddress, "--user", "admin@example.test", "-o", "plain"]
        let pinned = try await cli.run(base + ["--fingerprint", pin], connection: false)
        #expect(pinned.status == 0, "\(pinned.error)")
        let wrong = try await cli.run(base + ["--fingerprint", "sha256:" + String(repeating: "00", count: 32)], connection: false)
        #expect(wrong.status == 4)
        #expect(wrong.error.contains("DOES NOT MATCH"))
        #expect(wrong.error.contains(pin))
        // First contact without a terminal: refused, with the way out, and nothing remembered.
        let knownHosts = cli.home.appendingPathComponent(".config/deputy/known_hosts").path
        let first = try await cli.run(base, connection: false)
        #expect(first.status == 4)
        #expect(first.error.contains("Certificate fingerprint: \(pin)"))
        #expect(first.error.contains("--fingerprint"))
        #expect(!FileManager.default.fileExists(atPath: knownHosts))
        // Accepted at a terminal (through `script`, which gives the client one): remembered.
        let accepted = try await ProcessRunner.run(
            "/usr/bin/script", ["-qec", ([CLIHarness.binary] + base).map { "'\($0)'" }.joined(separator: " "), "/dev/null"],
            input: "yes\n", environment: ["HOME": cli.home.path, "PATH": "/usr/bin:/bin", "DEPUTY_PASSWORD": TestServer.adminPassword], replaceEnvironment: true
        )
        #expect(accepted.output.contains("login=admin@example.test"), "\(accepted.output) \(accepted.error)")
        let remembered = (try? String(contentsOfFile: knownHosts, encoding: .utf8)) ?? ""
        #expect(remembered.contains("127.0.0.1:\(cli.server.tlsPort) \(pin)"))
        // Remembered: no question the second time.
        let second = try await cli.run(base, connection: false)
        #expect(second.status == 0, "\(second.error)")
        // A changed certificate is refused loudly.
        try remembered.replacingOccurrences(of: pin, with: "sha256:" + String(repeating: "AB", count: 32)).write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let changed = try await cli.run(base, connection: false)
        #expect(changed.status == 4)
        #expect(changed.error.contains("DOES NOT MATCH"))
        #expect(changed.error.contains(knownHosts))
        try await cli.stop()
    }

    @Test("passwords: file permissions, the environment, never in output")
    func passwords() async throws {
        let cli = try await CLIHarness.start()
        let open = try cli.write(TestServer.adminPassword + "\n", to: "open-password", mode: 0o644)
        let refused = try await cli.run(["whoami", "--password-file", open], password: nil)
        #expect(refused.status == 78)
        #expect(refused.error.contains("chmod 600 \(open)"))
        let closed = try cli.write(TestServer.adminPassword + "\n", to: "password", mode: 0o600)
        let fromFile = try await cli.run(["whoami", "--password-file", closed, "-o", "plain"], password: nil)
        #expect(fromFile.status == 0, "\(fromFile.error)")
        let fromEnvironment = try await cli.run(["whoami", "-o", "plain"])
        #expect(fromEnvironment.status == 0)
        let wrong = try await cli.run(["whoami"], password: "not-the-password")
        #expect(wrong.status == 6)
        #expect(wrong.error.contains("login failed"))
        let none = try await cli.run(["whoami"], password: nil)
        #expect(none.status == 64)
        // A link to a closed file (a secret mounted or kept elsewhere) is judged by the
        // file; a link to an open one too.
        let linked = cli.home.appendingPathComponent("linked-password").path
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: closed)
        let throughLink = try await cli.run(["whoami", "--password-file", linked, "-o", "plain"], password: nil)
        #expect(throughLink.status == 0, "\(throughLink.error)")
        let linkedOpen = cli.home.appendingPathComponent("linked-open-password").path
        try FileManager.default.createSymbolicLink(atPath: linkedOpen, withDestinationPath: open)
        #expect(try await cli.run(["whoami", "--password-file", linkedOpen], password: nil).status == 78)
        // A file written on Windows: its line ends in CR LF, which is no part of the password.
        let crlf = try cli.write(TestServer.adminPassword + "\r\n", to: "crlf-password", mode: 0o600)
        let fromCRLF = try await cli.run(["whoami", "--password-file", crlf, "-o", "plain"], password: nil)
        #expect(fromCRLF.status == 0, "\(fromCRLF.error)")
        for result in [refused, fromFile, fromEnvironment, wrong, none, throughLink, fromCRLF] {
            #expect(!(result.output + result.error).contains(TestServer.adminPassword))
            #expect(!(result.output + result.error).contains("not-the-password"))
        }
        try await cli.stop()
    }

    @Test("shell: one connection, protocol lines and subcommands; it exits with the first failure's status, having run every line")
    func shell() async throws {
        let cli = try await CLIHarness.start()
        let result = try await cli.run(["shell", "-o", "plain"], input: "PING\nuser add erin@example.test\nbogus words\nuser show nobody@example.test\nQUERY SENDAS erin@example.test erin@example.test\nexit\n")
        #expect(result.output == "allowed=yes via=own\n", "\(result.output)")
        #expect(result.error.contains("pong"))
        #expect(result.error.contains("user erin@example.test added"))
        #expect(result.error.contains("error (unknown): unknown verb BOGUS"))
        #expect(result.status == 2, "the unknown verb's refusal, though later lines succeeded")
        let clean = try await cli.run(["shell", "-o", "plain"], input: "PING\nQUERY SENDAS erin@example.test erin@example.test\n")
        #expect(clean.status == 0)
        let missing = try await cli.run(["shell", "-o", "plain"], input: "user show nobody@example.test\nbogus words\n")
        #expect(missing.status == 5, "not found, the first failure")
        try await cli.stop()
    }

    @Test("Standard output gone or full: a reader that went away ends deputy by SIGPIPE, quietly; a full disk is said, with status 78")
    func standardOutputFailures() async throws {
        let cli = try await CLIHarness.start()
        let flags = ["--server", cli.serverAddress, "--ca", cli.caFile, "--user", "admin@example.test"].map { "'\($0)'" }.joined(separator: " ")
        let deputy = "'\(CLIHarness.binary)' "
        let environment = ["HOME": cli.home.path, "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "DEPUTY_PASSWORD": TestServer.adminPassword]
        func bash(_ script: String) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run("/bin/bash", ["-c", script], environment: environment, replaceEnvironment: true)
        }
        // A pipe whose reading end is closed before deputy starts: its first write fails.
        // Python reports a child ended by a signal as minus the signal's number.
        let closedPipe = """
            import os, subprocess, sys
            read, write = os.pipe()
            os.close(read)
            child = subprocess.run(sys.argv[1:], stdout=write, stderr=subprocess.PIPE)
            sys.stdout.write(str(child.returncode) + "\\n")
            sys.stderr.write(child.stderr.decode())
            """
        let connection = ["--server", cli.serverAddress, "--ca", cli.caFile, "--user", "admin@example.test"]
        for command in [["whoami"], ["export"], ["raw", "QUERY SENDERS admin@example.test"]] {
            let gone = try await ProcessRunner.run(
                "/usr/bin/python3", ["-c", closedPipe, CLIHarness.binary] + command + connection, environment: environment, replaceEnvironment: true
            )
            #expect(gone.output == "-\(SIGPIPE)\n", "\(command): \(gone.output) \(gone.error)")
            #expect(gone.error.isEmpty, "\(command): \(gone.error)")
        }
        for command in ["whoami", "export"] {
            let full = try await bash(deputy + command + " " + flags + " > /dev/full; echo $?")
            #expect(full.output == "78\n", "\(command): \(full.output) \(full.error)")
            #expect(full.error == "deputy: can't write to standard output: No space left on device\n", "\(command): \(full.error)")
        }
        try await cli.stop()
    }

    @Test("A password asked again with no terminal is refused here, never sent empty (no failed login in the audit log); a wrong one typed at a terminal is a refused login, 6")
    func reauthenticationWithoutTerminal() async throws {
        let cli = try await CLIHarness.start()
        #expect(try await cli.run(["user", "add", "bob@example.test"]).status == 0)
        #expect(try await cli.run(["role", "grant", "admin", "bob@example.test"]).status == 0)
        let transfer = try await cli.run(["role", "grant", "superadmin", "bob@example.test"])
        #expect(transfer.status == 64, "\(transfer.error)")
        #expect(transfer.error.contains("needs a terminal"), "\(transfer.error)")
        let audit = try await cli.run(["audit", "--limit", "5", "-o", "plain"])
        #expect(!audit.output.contains("login-failed"), "\(audit.output)")
        // At a terminal, a wrong password typed again is a refused login, 6. `getpass` drops
        // what was typed before its prompt, so the answer goes once the prompt is there: a
        // terminal of Python's, which waits for it (30 s at most).
        let typist = """
            import os, pty, select, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen, answered, deadline = b"", False, time.monotonic() + 30
            while time.monotonic() < deadline:
                if not select.select([fd], [], [], 1)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and b"Re-enter your password" in seen:
                    os.write(fd, b"not-the-password\\n")
                    answered = True
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            """
        let flags = ["role", "grant", "superadmin", "bob@example.test", "--server", cli.serverAddress, "--ca", cli.caFile, "--user", "admin@example.test"]
        let wrong = try await ProcessRunner.run(
            "/usr/bin/python3", ["-c", typist, CLIHarness.binary] + flags,
            environment: ["HOME": cli.home.path, "PATH": "/usr/bin:/bin", "DEPUTY_PASSWORD": TestServer.adminPassword], replaceEnvironment: true
        )
        #expect(wrong.status == 6, "\(wrong.output) \(wrong.error)")
        #expect(wrong.output.contains("invalid credentials"), "\(wrong.output)")
        try await cli.stop()
    }

    @Test("import users: pipelined, with a dry run and a file of rejected rows")
    func importUsers() async throws {
        let cli = try await CLIHarness.start()
        _ = try await cli.run(["user", "add", "taken@example.test"])
        let csv = try cli.write("""
            address,name,password,aliases
            u1@example.test,User One,pw-one,one@example.test;first@example.test
            taken@example.test,Taken,pw,
            not-an-address,Bad,pw,
            u2@example.test,"Two, the second",pw-two,

            """, to: "users.csv")
        let dry = try await cli.run(["import", "users", csv, "--dry-run"])
        #expect(dry.status == 2)
        #expect(dry.error.contains("2 of 4 rows would be added"), "\(dry.error)")
        #expect(try await cli.run(["query", "entry", "u1@example.test"]).status == 5)
        let real = try await cli.run(["import", "users", csv])
        #expect(real.status == 2)
        #expect(real.error.contains("2 of 4 users added"), "\(real.error)")
        let rejected = try String(contentsOfFile: cli.home.appendingPathComponent("users.rejected.csv").path, encoding: .utf8)
        #expect(rejected.contains("3,exists: the address taken@example.test is already in use,taken@example.test"), "\(rejected)")
        #expect(rejected.contains("4,invalid: the address is not a valid mail address,not-an-address"), "\(rejected)")
        #expect(!rejected.contains("pw"))
        #expect(try await cli.run(["query", "sendas", "u1@example.test", "first@example.test"]).status == 0)
        #expect(try await cli.run(["user", "show", "u2@example.test", "-o", "plain"]).output.contains("cn=\"Two, the second\""))
        try await cli.stop()
    }

    @Test("import users: a file that is not UTF-8, or with a quote left open, is refused; a dry run foresees a file's own duplicates; the rejected file is checked first, and an earlier run's is removed")
    func importUsersEdges() async throws {
        let cli = try await CLIHarness.start()
        // Windows-1252: é is one byte, 0xE9, which is no UTF-8.
        let latin1 = cli.home.appendingPathComponent("latin1.csv").path
        try Data("address,name\nok@example.test,Ok\nlat1@example.test,Jos".utf8 + [0xE9] + "\n".utf8).write(to: URL(fileURLWithPath: latin1))
        let notUTF8 = try await cli.run(["import", "users", latin1])
        #expect(notUTF8.status == 78, "\(notUTF8.error)")
        #expect(notUTF8.error.contains("is not UTF-8 (line 3)"), "\(notUTF8.error)")
        #expect(try await cli.run(["user", "show", "ok@example.test"]).status == 5, "nothing was sent")

        let twice = try cli.write("""
            address,name,aliases
            dup1@example.test,First,
            dup2@example.test,Second,dup1@example.test
            dup1@example.test,Again,

            """, to: "twice.csv")
        let dry = try await cli.run(["import", "users", twice, "--dry-run"])
        #expect(dry.error.contains("1 of 3 rows would be added"), "\(dry.error)")
        let dryRejected = try String(contentsOfFile: cli.home.appendingPathComponent("twice.rejected.csv").path, encoding: .utf8)
        #expect(dryRejected.contains("3,exists: the address dup1@example.test is added by line 2 first"), "\(dryRejected)")
        let real = try await cli.run(["import", "users", twice])
        #expect(real.error.contains("1 of 3 users added"), "\(real.error)")

        let unwritable = try cli.write("address,name\nnew1@example.test,New\n", to: "unwritable.csv")
        let noDirectory = try await cli.run(["import", "users", unwritable, "--rejected", cli.home.appendingPathComponent("missing/rejected.csv").path])
        #expect(noDirectory.status == 78, "\(noDirectory.error)")
        #expect(noDirectory.error.contains("no directory"), "\(noDirectory.error)")
        #expect(try await cli.run(["user", "show", "new1@example.test"]).status == 5, "nothing was sent")

        // A quote left open would swallow every row after it, unseen in the count.
        let open = try cli.write("address,name\n\"open1@example.test,Bad\nok9@example.test,OK\n", to: "open.csv")
        let unclosed = try await cli.run(["import", "users", open])
        #expect(unclosed.status == 78, "\(unclosed.error)")
        #expect(unclosed.error.contains("a quote opened on line 2 that is never closed"), "\(unclosed.error)")
        #expect(try await cli.run(["user", "show", "ok9@example.test"]).status == 5, "nothing was sent")
        let doubled = try cli.write("address,name\nq1@example.test,\"The \"\"Quoted\"\" One\"\n", to: "doubled.csv")
        let quoted = try await cli.run(["import", "users", doubled])
        #expect(quoted.status == 0, "\(quoted.error)")

        // A run with rejections, then a clean one: the first one's file goes.
        let stale = try cli.write("address,name\nst1@example.test,A\nbad,B\n", to: "stale.csv")
        #expect(try await cli.run(["import", "users", stale]).status == 2)
        let stalePath = cli.home.appendingPathComponent("stale.rejected.csv").path
        #expect(FileManager.default.fileExists(atPath: stalePath))
        _ = try cli.write("address,name\nst2@example.test,A\n", to: "stale.csv")
        let clean = try await cli.run(["import", "users", stale])
        #expect(clean.status == 0, "\(clean.error)")
        #expect(!FileManager.default.fileExists(atPath: stalePath), "an earlier run's rejections were left")
        // A file of another kind at that path is not touched.
        let foreign = try cli.write("kept\n", to: "other.rejected.csv")
        _ = try await cli.run(["import", "users", try cli.write("address,name\nst3@example.test,A\n", to: "other.csv")])
        #expect(FileManager.default.fileExists(atPath: foreign))
        try await cli.stop()
    }
}
