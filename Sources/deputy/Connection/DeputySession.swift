import DeputyClient
import DeputyProtocol
import Foundation

/// One connection to the server, bound as the user, for the length of one command.
struct DeputySession {
    let connection: DeputyConnection
    let options: ResolvedOptions
    let printer: ReplyPrinter

    /// Connects, checks trust, and binds; the password is read only when a login is set.
    static func open(_ options: ConnectionOptions, bind: Bool = true) async throws -> DeputySession {
        let resolved = try options.resolved()
        let connection: DeputyConnection
        do {
            connection = try await DeputyConnection.connect(to: resolved.endpoint, configuration: DeputyClientConfiguration(trust: try resolved.trust()))
        } catch let error as DeputyClientError {
            throw CLIError(error)
        }
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

    /// Sends one request and returns the reply; a failure of the connection becomes a
    /// ``CLIError`` with the status it means.
    func send(_ request: Request) async throws -> Reply {
        try await send(request.line)
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
