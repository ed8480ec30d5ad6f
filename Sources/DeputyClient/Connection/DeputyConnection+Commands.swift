import DeputyProtocol

extension DeputyConnection {
    /// Sends a typed request and returns its reply.
    ///
    /// ```swift
    /// let reply = try await connection.send(.query(.sendAs(login: "bob@example.org", address: "sales@example.org")))
    /// ```
    public func send(_ request: Request) async throws -> Reply {
        try await self.send(request.line)
    }

    /// Sends typed requests at once, pipelined, and returns their replies in order.
    public func send(_ requests: [Request]) async throws -> [Reply] {
        try await self.send(requests.map(\.line))
    }

    /// Sends typed requests at once, pipelined, and returns what became of each: its reply,
    /// or why none came (see ``sendEach(_:)-([RequestLine])``).
    public func sendEach(_ requests: [Request]) async -> [Result<Reply, any Error>] {
        await self.sendEach(requests.map(\.line))
    }

    /// Authenticates the session with a password: `BIND <login> <password>`.
    ///
    /// The password travels only inside the request line; it is never part of a description
    /// or an error message. Wrong credentials come back as a reply with `ERR auth`.
    public func bind(login: String, password: String) async throws -> Reply {
        try await self.send(.bind(login: login, password: password))
    }

    /// Re-authenticates an authenticated session for sensitive operations:
    /// `REAUTH <password> [code]`, with a code where the account has a second factor.
    public func reauth(password: String, code: String? = nil) async throws -> Reply {
        try await self.send(.reauth(password: password, code: code))
    }

    /// Checks that the server is responsive: `PING`.
    public func ping() async throws -> Reply {
        try await self.send(.ping)
    }

    /// Asks for the authenticated identity and its roles: `WHOAMI`.
    public func whoami() async throws -> Reply {
        try await self.send(.whoami)
    }

    /// Ends the session: sends `QUIT`, waits for its reply, then closes the connection.
    public func quit() async throws -> Reply {
        let reply = try await self.send(.quit)
        await self.close()
        return reply
    }
}
