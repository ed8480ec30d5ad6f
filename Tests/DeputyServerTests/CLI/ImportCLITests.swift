import Foundation
import Synchronization
import Testing

@testable import DeputyServer

/// `deputy import users` on files that are not what they seem, and on a connection that
/// breaks partway.
@Suite("deputy import users: malformed rows and broken connections")
struct ImportCLITests {
    @Test("a row with more or fewer fields than the header is rejected, never shifted into other columns")
    func fieldCount() async throws {
        let cli = try await CLIHarness.start()
        // An unquoted comma in a name: read by position, the first name would become the
        // password and the real one would be dropped (or land in the aliases column, and from
        // there in the rejected file).
        let csv = try cli.write("""
            address,name,password,aliases
            alice@example.test,Liddell, Alice,s3cret-pw,
            carol@example.test,Carol, Jr,pw3,
            dave@example.test,Dave
            erin@example.test,Erin,erin-pw,

            """, to: "users.csv")
        let result = try await cli.run(["import", "users", csv])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("1 of 4 users added"), "\(result.error)")
        let path = cli.home.appendingPathComponent("users.rejected.csv").path
        let rejected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(rejected.contains("2,invalid: the row has 5 fields where the header names 4"), "\(rejected)")
        #expect(rejected.contains("3,invalid: the row has 5 fields where the header names 4"), "\(rejected)")
        #expect(rejected.contains("4,invalid: the row has 2 fields where the header names 4"), "\(rejected)")
        for secret in ["s3cret-pw", "pw3", "Alice"] {
            #expect(!rejected.contains(secret), "\(rejected)")
        }
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        for user in ["alice", "carol", "dave"] {
            #expect(try await cli.run(["query", "entry", "\(user)@example.test"]).status == 5)
        }
        #expect(try await cli.run(["query", "entry", "erin@example.test"]).status == 0)
        try await cli.stop()
    }

    @Test("a column the import does not know, or one named twice, stops it before anything is sent")
    func unknownColumn() async throws {
        let cli = try await CLIHarness.start()
        let misspelt = try cli.write("address,name,passwd\nfrank@example.test,Frank,frank-pw\n", to: "misspelt.csv")
        let result = try await cli.run(["import", "users", misspelt])
        #expect(result.status == 78)
        #expect(result.error.contains("unknown column 'passwd'"), "\(result.error)")
        let twice = try cli.write("address,name,name\nfrank@example.test,Frank,F\n", to: "twice.csv")
        let second = try await cli.run(["import", "users", twice])
        #expect(second.status == 78)
        #expect(second.error.contains("names the column 'name' twice"), "\(second.error)")
        #expect(try await cli.run(["query", "entry", "frank@example.test"]).status == 5)
        try await cli.stop()
    }

    @Test("a connection that breaks partway: the rows answered are counted, the rest are reported as unknown")
    func brokenConnection() async throws {
        let cli = try await CLIHarness.start()
        let adds = Mutex(0)
        let proxy = try await InterceptingProxy.start(upstreamPort: cli.server.plainPort) { line in
            guard line.hasPrefix("ADD USER ") else { return }
            let count = adds.withLock { count in
                count += 1
                return count
            }
            if count == 3 { throw TestFailure("the connection breaks before the third ADD") }
        }
        let csv = try cli.write(
            "address,name\n" + (1...5).map { "u\($0)@example.test,User \($0)" }.joined(separator: "\n") + "\n",
            to: "users.csv"
        )
        let flags = ["--server", "deputy+plain://127.0.0.1:\(proxy.port)", "--user", "admin@example.test"]
        let result = try await cli.run(["import", "users", csv] + flags, connection: false)
        #expect(result.status == 3, "\(result.error)")
        #expect(result.error.contains("2 of 5 users added"), "\(result.error)")
        #expect(result.error.contains("3 rows have no reply"), "\(result.error)")
        let rejected = try String(contentsOfFile: cli.home.appendingPathComponent("users.rejected.csv").path, encoding: .utf8)
        for line in 4...6 {
            #expect(rejected.contains("\(line),unknown: no reply came"), "\(rejected)")
        }
        #expect(!rejected.contains("u1@example.test") && !rejected.contains("u2@example.test"))
        try await proxy.stop()
        try await cli.stop()
    }

    @Test("a rejected file that can't be written is a local file problem, found before anything is sent, so no row's reason is lost")
    func rejectedFileUnwritable() async throws {
        let cli = try await CLIHarness.start()
        let csv = try cli.write("address\nnot-an-address\ngrace@example.test\n", to: "users.csv")
        let result = try await cli.run(["import", "users", csv, "--rejected", "/nonexistent/directory/rejected.csv"])
        #expect(result.status == 78, "\(result.error)")
        #expect(result.error == "deputy: cannot write the rejected rows' file /nonexistent/directory/rejected.csv: no directory /nonexistent/directory\n", "\(result.error)")
        #expect(try await cli.run(["user", "show", "grace@example.test"]).status == 5, "nothing was sent")
        let intoDirectory = try await cli.run(["import", "users", csv, "--rejected", cli.home.path])
        #expect(intoDirectory.status == 78 && intoDirectory.error.contains("it is a directory"), "\(intoDirectory.error)")
        try await cli.stop()
    }
}
