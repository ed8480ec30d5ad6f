import DeputyClient
import DeputyProtocol
import Foundation

/// One connection to the server, bound as the user, for the length of one command.
struct DeputySession {
    let connection: DeputyConnection
    let options: ResolvedOptions
    let printer: ReplyPrinter

    /// Connects to the first server that answers, checks trust, and binds; the password is
    /// read only when a login is set.
    static func open(_ options: ConnectionOptions, bind: Bool = true) async throws -> DeputySession {
        let resolved = try options.resolved()
        let connection = try await connect(resolved)
        let session = DeputySession(connection: connection, options: resolved, printer: ReplyPrinter(format: resolved.format))
        if bind {
            guard let user = resolved.user else {
                await connection.close()
                throw CLIError(.usage, "no login: pass --user LOGIN or set \"user\" in the profile")
            }
            let password = try PasswordSource.password(file: resolved.passwordFile, prompt: "Password for \(user): ")
            let reply = try await session.send(.bind(login: user, password: password))
            guard reply.status.isOK else {
                await connection.close()
                throw CLIError(.loginRefused, "login failed: \(reply.status.text)")
            }
        }
        return session
    }

    /// The first of the servers that accepts a connection. A server that can't be reached
    /// is passed over for the next, with a note; one whose certificate is not trusted stops
    /// here, since trying others would hide that.
    static func connect(_ options: ResolvedOptions) async throws -> DeputyConnection {
        let configuration = DeputyClientConfiguration(trust: try options.trust())
        var index = 0
        while true {
            let endpoint = options.endpoints[index]
            do {
                return try await DeputyConnection.connect(to: endpoint, configuration: configuration)
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
