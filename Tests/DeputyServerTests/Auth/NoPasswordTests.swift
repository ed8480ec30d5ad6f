import DeputyCore
import DeputyServer
import Testing

@Suite("Accounts added without a password")
struct NoPasswordTests {
    @Test("ADD USER and ADD SERVICE without a password store none, hash nothing, and refuse every login until one is set")
    func noPasswordUntilSet() async throws {
        let server = try await TestServer.launch()
        defer { Task { try? await server.stop() } }
        let admin = try await server.boundClient()
        #expect(try await admin.send("ADD USER pending@example.test") == ["OK user pending@example.test added (revision 2)"])
        #expect(try await admin.send("ADD SERVICE relay") .last?.hasPrefix("OK") == true)
        let directory = server.committer.live.directory
        #expect(directory.user(at: EmailAddress("pending@example.test")!)?.passwordHash == PasswordHash.none)
        #expect(directory.account(forLogin: "relay")?.passwordHash == PasswordHash.none)

        // No password matches, not even the text of the marker, and the refusal reads as any other.
        let stranger = try await server.plainClient()
        #expect(try await stranger.send("BIND pending@example.test \"!\"").last?.hasPrefix("ERR auth") == true)
        #expect(try await stranger.send("BIND pending@example.test \"\"").last?.hasPrefix("ERR") == true)
        #expect(try await stranger.send("BIND relay \"!\"").last?.hasPrefix("ERR auth") == true)

        // Once an administrator sets one, it works.
        #expect(try await admin.send("PASSWD pending@example.test new=\"first password 1\"").last?.hasPrefix("OK") == true)
        let user = try await server.plainClient()
        #expect(try await user.send("BIND pending@example.test \"first password 1\"").last?.hasPrefix("OK") == true)
    }

    @Test("the marker reads back from storage as no password, and no password matches it")
    func markerIsStored() throws {
        #expect(PasswordHash(encoded: "!") == PasswordHash.none)
        #expect(PasswordHash.none.isSet == false)
        #expect(PasswordHash(encoded: "!!") == nil)
        let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))
        #expect(hasher.verify("!", against: .none) == false)
        #expect(hasher.verify("", against: .none) == false)
    }
}
