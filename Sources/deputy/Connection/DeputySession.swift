import DeputyClient
import DeputyProtocol
import Foundation

/// One connection to the server, bound as the user, for the length of one command.
struct DeputySession {
    let connection: DeputyConnection
    let options: ResolvedOptions
    let printer: ReplyPrinter

    /// Connects to the first server that answers, checks trust, and binds; the password is
    /// read only when a login is set. With `--revision` and several servers, a server that
    /// has not reached the revision is passed over for the next, as one that can't be reached
    /// is: the revision was made through another node, and one of the others may have it.
    static func open(_ options: ConnectionOptions, bind: Bool = true) async throws -> DeputySession {
        let resolved = try options.resolved()
        var password: String?
        var start = 0
        while true {
            let (connection, index) = try await connect(resolved, from: start)
            let session = DeputySession(connection: connection, options: resolved, printer: ReplyPrinter(format: resolved.format))
            guard bind else { return session }
            guard let user = resolved.user else {
                await connection.close()
                throw CLIError(.usage, "no login: pass --user LOGIN or set \"user\" in the profile")
            }
            // Asked once, whichever server the login goes to.
            if password == nil { password = try PasswordSource.password(file: resolved.passwordFile, prompt: "Password for \(user): ") }
            let reply = try await session.send(.bind(login: user, password: password!))
            guard reply.status.isOK else {
                await connection.close()
                throw CLIError(.loginRefused, "login failed: \(reply.status.text)")
            }
            guard let revision = resolved.revision, index + 1 < resolved.endpoints.count,
                let behind = try await session.notReached(revision, login: user)
            else { return session }
            ReplyPrinter.message("deputy: \(resolved.endpoints[index]) \(behind); trying \(resolved.endpoints[index + 1])")
            await connection.close()
            start = index + 1
        }
    }

    /// Why this server can't answer at `revision`, or `nil` when it can: a query about the
    /// login's own address that waits for the revision, which every account may ask.
    private func notReached(_ revision: UInt64, login: String) async throws -> String? {
        let reply = try await send(Self.request(.query(.sendAs(login: login, address: login)), waitingFor: revision))
        guard case .error(.unavailable, let text) = reply.status, text.hasPrefix("revision ") else { return nil }
        return "is behind (\(text))"
    }

    /// The first of the servers from `start` on that accepts a connection, with its index. A
    /// server that can't be reached is passed over for the next, with a note; one whose
    /// certificate is not trusted stops here, since trying others would hide that.
    static func connect(_ options: ResolvedOptions, from start: Int = 0) async throws -> (DeputyConnection, Int) {
        let configuration = DeputyClientConfiguration(trust: try options.trust())
        var index = start
        while true {
            let endpoint = options.endpoints[index]
            do {
                return (try await DeputyConnection.connect(to: endpoint, configuration: configuration), index)
            } catch let error as DeputyClientError where index + 1 < options.endpoints.count && Self.unreachable.contains(error.code) {
                ReplyPrinter.message("deputy: \(endpoint) can't be reached (\(error.message)); trying \(options.endpoints[index + 1])")
                index += 1
            } catch let error as DeputyClientError {
                throw CLIError(error)
            }
        }
    }

    /// The failures that mean a server is not there now, rather than not to be trusted.
    private static let unreachable: Set<DeputyClientError.Code> = [.connectionFailed, .connectTimeout, .connectionClosed, .invalidGreeting]

    /// Sends one request and returns the reply; a failure of the connection becomes a
    /// ``CLIError`` with the status it means.
    func send(_ request: Request) async throws -> Reply {
        try await send(Self.request(request, waitingFor: options.revision).line)
    }

    /// `request` as sent with `--revision`: a query or an audit read waits until the server
    /// has applied `revision`; changes and everything else go as they are.
    static func request(_ request: Request, waitingFor revision: UInt64?) -> Request {
        guard let revision else { return request }
        if case .query = request { return .atRevision(revision, request) }
        if case .audit = request { return .atRevision(revision, request) }
        return request
    }

    /// Sends one line as it is (`deputy raw`).
    func send(_ line: RequestLine) async throws -> Reply {
        do {
            return try await connection.send(line)
        } catch let error as DeputyClientError {
            throw CLIError(error)
        }
    }

    /// Sends `request`, prints the reply, and returns the exit status it means.
    @discardableResult
    func run(_ request: Request) async throws -> ExitStatus {
        let reply = try await send(request)
        printer.print(reply)
        return ExitStatus(reply.status)
    }

    func close() async {
        await connection.close()
    }
}

extension ReplyStatus {
    /// The text of the status line.
    var text: String {
        switch self {
        case .ok(let text): text ?? ""
        case .error(let code, let text): "\(code.rawValue): \(text)"
        }
    }
}
