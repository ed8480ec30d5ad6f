import DeputyServer
import Foundation
import NIOCore
import NIOPosix
import Testing

/// What `deputy` says when something goes wrong, one family of messages at a time: in the
/// words of the person using it, with the library's account only at `--verbose`, and an exit
/// status for each kind (README.md lists them).
@Suite("deputy's messages and exit status")
struct CLIMessageTests {
    /// The login flags, without the trust ones.
    private static func login(_ cli: CLIHarness) -> [String] {
        ["--server", cli.serverAddress, "--user", "admin@example.test"]
    }

    @Test("A refused connection names the address; --verbose adds the library's account")
    func connectionRefused() async throws {
        let cli = try await CLIHarness.start()
        // A port that was just free: nothing listens there.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(probe.localAddress?.port)
        try await probe.close()
        let arguments = ["whoami", "--server", "127.0.0.1:\(port)", "--ca", cli.caFile, "--user", "admin@example.test"]
        let plain = try await cli.run(arguments, connection: false)
        #expect(plain.status == 3)
        #expect(plain.error == "deputy: could not connect to 127.0.0.1:\(port): connection refused; nothing is listening there (is deputyd running, on this address and port?)\n")
        let verbose = try await cli.run(arguments + ["--verbose"], connection: false)
        #expect(verbose.status == 3)
        #expect(verbose.error.hasPrefix(plain.error))
        #expect(verbose.error.contains("deputy: detail: ") && verbose.error.contains("Connection refused"), "\(verbose.error)")
        try await cli.stop()
    }

    @Test("Several servers: one that can't be reached is passed over for the next, with a note; when none answers, the last one's failure")
    func severalServers() async throws {
        let cli = try await CLIHarness.start()
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(probe.localAddress?.port)
        try await probe.close()
        let down = "127.0.0.1:\(port)"
        let failedOver = try await cli.run(["whoami", "--server", "\(down),\(cli.serverAddress)", "--ca", cli.caFile, "--user", "admin@example.test", "-o", "plain"], connection: false)
        #expect(failedOver.status == 0, "\(failedOver.error)")
        #expect(failedOver.output.contains("login=admin@example.test"), "\(failedOver.output)")
        #expect(failedOver.error.hasPrefix("deputy: \(down) can't be reached (") && failedOver.error.contains("trying \(cli.serverAddress)"), "\(failedOver.error)")
        let none = try await cli.run(["whoami", "--server", "\(down),\(down)", "--ca", cli.caFile, "--user", "admin@example.test"], connection: false)
        #expect(none.status == 3)
        #expect(none.error.hasSuffix("deputy: could not connect to \(down): connection refused; nothing is listening there (is deputyd running, on this address and port?)\n"), "\(none.error)")
        try await cli.stop()
    }

    @Test("Several servers with --revision: one that has not reached the revision is passed over for the next, with a note")
    func severalServersAtRevision() async throws {
        let cli = try await CLIHarness.start()
        // A certificate of another name: two self-signed ones of one name in a CA file
        // would be told apart by name only.
        let ahead = try await TestServer.launch(hostNames: ["ahead.localhost", "localhost"])
        let aheadAddress = "127.0.0.1:\(ahead.tlsPort)"
        let both = try cli.write(cli.server.certificatePEM + ahead.certificatePEM, to: "both.pem")
        func deputy(_ arguments: [String], servers: String) async throws -> ProcessRunner.Result {
            try await cli.run(arguments + ["--server", servers, "--ca", both, "--user", "admin@example.test", "-o", "plain"], connection: false)
        }
        // Changes through one server, as through one node; the revision of the last.
        var revision = 0
        for name in ["r1", "r2", "r3"] {
            let added = try await deputy(["user", "add", "\(name)@example.test"], servers: aheadAddress)
            #expect(added.status == 0, "\(added.error) \(added.output)")
            revision = try #require(added.error.firstMatch(of: /revision (\d+)/).flatMap { Int($0.1) }, "\(added.error)")
        }
        let read = try await deputy(["user", "show", "r3@example.test", "--revision", "\(revision)"], servers: "\(cli.serverAddress),\(aheadAddress)")
        #expect(read.status == 0, "\(read.error)")
        #expect(read.output.contains("r3@example.test"), "\(read.output)")
        #expect(
            read.error.hasPrefix("deputy: \(cli.serverAddress) is behind (revision \(revision) was not reached within 5 seconds; this server is at ")
                && read.error.contains("trying \(aheadAddress)"),
            "\(read.error)"
        )
        // Without --revision, or with one the first server has, it answers.
        let plain = try await deputy(["whoami"], servers: "\(cli.serverAddress),\(aheadAddress)")
        #expect(plain.status == 0 && plain.error.isEmpty, "\(plain.error)")
        try await ahead.stop()
        try await cli.stop()
    }

    @Test("Words for small mistakes: a known-hosts path that is a directory, a filter without parentheses or with an error in it, a yes/no option; ping in JSON")
    func smallMistakes() async throws {
        let cli = try await CLIHarness.start()
        let directory = cli.home.path
        let knownHosts = try await cli.run(["whoami", "--server", cli.serverAddress, "--known-hosts", directory, "--user", "admin@example.test"], connection: false)
        #expect(knownHosts.status == 4, "\(knownHosts.error)")
        #expect(knownHosts.error == "deputy: could not read the known-hosts file \(directory): it is a directory\n", "\(knownHosts.error)")
        #expect(try await cli.run(["user", "add", "blocked1@example.test"]).status == 0)
        #expect(try await cli.run(["user", "block", "blocked1@example.test"]).status == 0)
        let bare = try await cli.run(["user", "list", "--filter", "blocked=yes", "-o", "plain"])
        #expect(bare.status == 0, "\(bare.error)")
        #expect(bare.output.contains("blocked1@example.test") && !bare.output.contains("admin@example.test"), "\(bare.output)")
        let broken = try await cli.run(["user", "list", "--filter", "(blocked=yes"])
        #expect(broken.status == 64)
        #expect(broken.error.contains("offset 12"), "the offset in the text typed: \(broken.error)")
        // -o json is kept by ping too: one object a program can read.
        let ping = try await cli.run(["ping", "-o", "json"])
        #expect(ping.status == 0, "\(ping.error)")
        let object = try JSONSerialization.jsonObject(with: Data(ping.output.utf8)) as? [String: Any]
        #expect((object?["greeting"] as? String)?.hasPrefix("deputyd ") == true, "\(ping.output)")
        #expect(object?["milliseconds"] is Double || object?["milliseconds"] is Int, "\(ping.output)")
        let maybe = try await cli.run(["policy", "set", "default", "--delegation", "maybe"])
        #expect(maybe.status == 64)
        #expect(maybe.error.contains("takes yes or no (on or off), not maybe"), "\(maybe.error)")
        try await cli.stop()
    }

    @Test("An untrusted certificate says why, with the fingerprint presented; a CA file and a pin are both checked")
    func untrustedCertificate() async throws {
        let cli = try await CLIHarness.start()
        let other = try ServerCertificate.generate(hostNames: ["localhost"])
        let otherFile = try cli.write(other.certificatePEM, to: "other.pem")
        let pin = cli.server.certificate.fingerprint
        let untrusted = try await cli.run(["whoami", "--ca", otherFile] + Self.login(cli), connection: false)
        #expect(untrusted.status == 4)
        #expect(untrusted.error == "deputy: the certificate of \(cli.serverAddress) is not trusted: no certificate in \(otherFile) issued it; the server presented \(pin)\n")
        #expect(!untrusted.error.contains("CERTIFICATE_VERIFY_FAILED"), "the library's words only with --verbose")

        // A pin beside the right CA file: both must hold.
        let both = try await cli.run(["whoami", "--ca", cli.caFile, "--fingerprint", pin, "-o", "plain"] + Self.login(cli), connection: false)
        #expect(both.status == 0, "\(both.error)")
        let wrongPin = try await cli.run(["whoami", "--ca", cli.caFile, "--fingerprint", "sha256:" + String(repeating: "0A", count: 32)] + Self.login(cli), connection: false)
        #expect(wrongPin.status == 4)
        #expect(wrongPin.error.contains("DOES NOT MATCH"))
        let rightPinWrongCA = try await cli.run(["whoami", "--ca", otherFile, "--fingerprint", pin] + Self.login(cli), connection: false)
        #expect(rightPinWrongCA.status == 4)
        #expect(rightPinWrongCA.error.contains("is not trusted"))
        try await cli.stop()
    }

    @Test("A malformed fingerprint is refused with the form expected, even beside a CA file")
    func malformedFingerprint() async throws {
        let cli = try await CLIHarness.start()
        let run = try await cli.run(["whoami", "--fingerprint", "AEC51F"])
        #expect(run.status == 64)
        #expect(run.error.contains("--fingerprint AEC51F is not a certificate fingerprint; expected sha256: and 32 pairs of hex digits"), "\(run.error)")
        try await cli.stop()
    }

    @Test("Files that are not there are named, with exit status 5: CA file, password file, profile, CSV")
    func noSuchFile() async throws {
        let cli = try await CLIHarness.start()
        let missing = cli.home.appendingPathComponent("missing").path
        let cases: [([String], Bool, String)] = [
            (["whoami", "--ca", missing] + Self.login(cli), false, "deputy: cannot read the CA file \(missing): no such file\n"),
            (["whoami", "--password-file", missing], true, "deputy: cannot read the password file \(missing): no such file\n"),
            (["whoami", "--profile", missing], true, "deputy: cannot read the profile \(missing): no such file\n"),
            (["import", "users", missing], true, "deputy: cannot read the CSV file \(missing): no such file\n"),
        ]
        for (arguments, connection, message) in cases {
            let run = try await cli.run(arguments, connection: connection)
            #expect(run.status == 5, "\(arguments): \(run.error)")
            #expect(run.error == message)
            #expect(!run.error.contains("NSCocoaErrorDomain"))
        }
        // A file named in the profile says so.
        let profile = try cli.write("{\"server\": \"\(cli.serverAddress)\", \"ca\": \"\(missing)\"}\n", to: "profile.json")
        let named = try await cli.run(["whoami", "--profile", profile, "--user", "admin@example.test"], connection: false)
        #expect(named.status == 5)
        #expect(named.error == "deputy: cannot read the CA file named in \(profile) \(missing): no such file\n")
        try await cli.stop()
    }

    @Test("A profile with an unknown key, a wrong value or broken JSON is refused with its file, line and the key meant")
    func profileMistakes() async throws {
        let cli = try await CLIHarness.start()
        let cases: [(String, String)] = [
            ("{\n  \"server\": \"127.0.0.1:7636\",\n  \"usr\": \"admin@example.test\"\n}\n", ":3: unknown key \"usr\"; did you mean \"user\"?"),
            ("{\n  \"passwordfile\": \"/x\"\n}\n", ":2: unknown key \"passwordfile\"; did you mean \"passwordFile\"?"),
            ("{\n  \"colour\": \"red\"\n}\n", ":2: unknown key \"colour\"; the keys are server, user, ca, fingerprint, passwordFile, knownHosts, output"),
            ("{\n  \"output\": \"yaml\"\n}\n", ":2: \"output\" must be \"table\", \"json\" or \"plain\", not \"yaml\""),
            ("{\n  \"server\": 7636\n}\n", ":2: \"server\" must be a string, in quotes"),
            ("{\n\n  \"fingerprint\": \"AEC51F\"\n}\n", ":3: \"fingerprint\" is not a certificate fingerprint; expected sha256: and 32 pairs"),
            ("{\n  \"server\": \"127.0.0.1:7636\" \"user\": \"a\"\n}\n", ":2:"),
        ]
        for (text, message) in cases {
            let file = try cli.write(text, to: "profile.json")
            // Beside --ca, which once made the profile's fingerprint go unread.
            let run = try await cli.run(["whoami", "--profile", file])
            #expect(run.status == 78, "\(text): \(run.error)")
            #expect(run.error.hasPrefix("deputy: \(file)\(message)"), "\(run.error)")
        }
        try await cli.stop()
    }

    @Test("Global options go before the subcommand as well as after it")
    func globalOptionsFirst() async throws {
        let cli = try await CLIHarness.start()
        let before = try await cli.run(["-o", "json", "--server", cli.serverAddress, "--ca", cli.caFile, "-u", "admin@example.test", "whoami"], connection: false)
        #expect(before.status == 0, "\(before.error)")
        #expect(before.output.hasPrefix("{\"ok\":true"), "\(before.output)")
        let between = try await cli.run(["query", "--output=plain", "privileges", "admin@example.test"])
        #expect(between.output.hasPrefix("user=admin@example.test role=superadmin "), "\(between.output)")
        let verbose = try await cli.run(["-v", "query", "entry", "nobody@example.test"])
        #expect(verbose.status == 5)
        try await cli.stop()
    }

    @Test("Refused, not found, login refused and password-file problems each have their own status")
    func statuses() async throws {
        let cli = try await CLIHarness.start()
        #expect(try await cli.run(["user", "add", "dup@example.test"]).status == 0)
        let refused = try await cli.run(["user", "add", "dup@example.test"])
        #expect(refused.status == 2)
        #expect(refused.error.contains("error (exists)"))
        let notFound = try await cli.run(["user", "show", "ghost@example.test"])
        #expect(notFound.status == 5)
        let login = try await cli.run(["whoami"], password: "wrong password")
        #expect(login.status == 6)
        #expect(login.error.hasPrefix("deputy: login failed: auth"), "\(login.error)")
        let open = try cli.write(TestServer.adminPassword + "\n", to: "open", mode: 0o644)
        let readable = try await cli.run(["whoami", "--password-file", open], password: nil)
        #expect(readable.status == 78)
        let empty = try cli.write("", to: "empty")
        let blank = try await cli.run(["whoami", "--password-file", empty], password: nil)
        #expect(blank.status == 78)
        #expect(blank.error == "deputy: the password file \(empty) is empty; its first line is the password\n")
        let usage = try await cli.run(["user", "frobnicate"])
        #expect(usage.status == 64)
        try await cli.stop()
    }

    @Test("One rejected row is one row")
    func oneRowRejected() async throws {
        let cli = try await CLIHarness.start()
        let csv = try cli.write("address\nok@example.test\nnot-an-address\n", to: "one.csv")
        let run = try await cli.run(["import", "users", csv])
        #expect(run.status == 2)
        #expect(run.error.contains("1 of 2 users added"))
        #expect(run.error.contains("1 row rejected; see "), "\(run.error)")
        try await cli.stop()
    }
}
