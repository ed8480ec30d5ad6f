import DeputyProtocol

extension DeputyConnection {
    /// Authenticates the session with a password: `BIND <login> <password>`.
    ///
    /// The password travels only inside the request line; it is never part of a description
    /// or an error message. Wrong credentials come back as a reply with `ERR auth`.
    public func bind(login: String, password: String) async throws -> Reply {
        try await self.send(try Self.makeRequest("BIND", [login, password], named: []))
    }

    /// Re-authenticates an authenticated session for sensitive operations: `REAUTH <password>`.
    public func reauth(password: String) async throws -> Reply {
        try await self.send(try Self.makeRequest("REAUTH", [password], named: []))
    }

    /// Checks that the server is responsive: `PING`.
    public func ping() async throws -> Reply {
        try await self.send(try Self.makeRequest("PING", [], named: []))
    }

    /// Asks for the authenticated identity and its roles: `WHOAMI`.
    public func whoami() async throws -> Reply {
        try await self.send(try Self.makeRequest("WHOAMI", [], named: []))
    }

    /// Ends the session: sends `QUIT`, waits for its reply, then closes the connection.
    public func quit() async throws -> Reply {
        let reply = try await self.send(try Self.makeRequest("QUIT", [], named: []))
        await self.close()
        return reply
    }

    /// Sends any request built from a verb, positional arguments and named arguments.
    ///
    /// ```swift
    /// try await connection.request("QUERY", ["SEARCH", "(mail=*@example.org)"], named: [("limit", "50")])
    /// // QUERY SEARCH "(mail=*@example.org)" limit=50
    /// ```
    ///
    /// - Throws: ``DeputyClientError`` with code `invalidRequest` if the verb is not an
    ///   alphanumeric word or a key is invalid or repeated (the message names no argument),
    ///   and the errors of ``send(_:)-(Request)``.
    public func request(
        _ verb: String,
        _ positionals: [String] = [],
        named: [(String, String)] = []
    ) async throws -> Reply {
        try await self.send(try Self.makeRequest(verb, positionals, named: named))
    }

    private static func makeRequest(
        _ verb: String,
        _ positionals: [String],
        named: [(String, String)]
    ) throws(DeputyClientError) -> Request {
        let arguments =
            positionals.map(Request.Argument.positional)
            + named.map { Request.Argument.named(key: $0.0, value: $0.1) }
        guard let request = Request(verb: verb, arguments: arguments) else {
            throw .invalidRequest()
        }
        return request
    }
}
