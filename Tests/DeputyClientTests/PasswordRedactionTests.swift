import DeputyClient
import DeputyProtocol
import Testing

@Suite("Passwords stay out of messages", .timeLimit(.minutes(1)))
struct PasswordRedactionTests {
    static let password = "Tr0ub4dor&3-correct-horse"

    /// Every way an error might be turned into text.
    private static func renderings(of error: DeputyClientError) -> [String] {
        [error.message, error.description, "\(error)", String(reflecting: error), "\(error.code)"]
    }

    @Test("a connection that breaks during BIND does not quote the password")
    func brokenDuringBind() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            let connection = try await server.connectPlaintext()
            let error = try #require(
                await clientError { _ = try await connection.bind(login: "hangup", password: Self.password) }
            )
            #expect(error.code == .connectionClosed)
            #expect(error.message.contains("BIND"))
            for text in Self.renderings(of: error) {
                #expect(!text.contains(Self.password))
            }
            // The password did travel, inside the request only.
            #expect(server.receivedLines == ["BIND hangup \(Self.password)"])
        }
    }

    @Test("a BIND that times out does not quote the password")
    func timeoutDuringBind() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            var configuration = testConfiguration()
            configuration.requestTimeout = .milliseconds(200)
            let connection = try await server.connectPlaintext(configuration: configuration)
            let error = try #require(
                await clientError { _ = try await connection.bind(login: "hold", password: Self.password) }
            )
            #expect(error.code == .requestTimeout)
            for text in Self.renderings(of: error) {
                #expect(!text.contains(Self.password))
            }
        }
    }

    @Test("a failed BIND and REAUTH on a closed connection do not quote the password")
    func reauthAndInvalidRequest() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            let connection = try await server.connectPlaintext()
            let wrong = try await connection.bind(login: "alice", password: Self.password)
            #expect(wrong.status == .error(code: .auth, text: "bad credentials"))

            await connection.close()
            let closed = try #require(await clientError { _ = try await connection.reauth(password: Self.password) })
            #expect(closed.code == .connectionClosed)
            for text in Self.renderings(of: closed) {
                #expect(!text.contains(Self.password))
            }
        }
    }

    @Test("a BIND request's description names only the verb and the argument count")
    func requestDescription() throws {
        let request = try #require(RequestLine(verb: "BIND", positionals: ["alice", Self.password]))
        #expect(request.description == "BIND (2 arguments)")
        #expect(!"\(request)".contains(Self.password))
    }
}
