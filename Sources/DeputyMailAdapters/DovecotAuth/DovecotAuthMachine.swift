import DeputyServer
import Foundation

/// The server side of Dovecot's auth protocol, as a pure state machine: it takes the
/// client's commands and returns what to do; the connection performs it.
///
/// It offers the `PLAIN` and `LOGIN` mechanisms. `LOGIN` follows Dovecot's own flow: the
/// server prompts `Username:` (unless the `AUTH` line carried it as the initial response),
/// then `Password:`, each as a base64 `CONT` challenge.
///
/// ```
/// S: VERSION 1 2 / MECH PLAIN plaintext / MECH LOGIN plaintext / SPID 42 / CUID 7 / COOKIE <32 hex> / DONE
/// C: VERSION 1 2 / CPID 4711
/// C: AUTH 1 LOGIN service=smtp nologin lip=127.0.0.1 rip=127.0.0.1
/// S: CONT 1 VXNlcm5hbWU6                       ("Username:")
/// C: CONT 1 Ym9iQHgudGVzdA==
/// S: CONT 1 UGFzc3dvcmQ6                       ("Password:")
/// C: CONT 1 c2VjcmV0
/// S: OK 1 user=bob@x.test
/// ```
struct DovecotAuthMachine: Sendable {
    /// The protocol version this server speaks; a client with another major is refused.
    static let majorVersion = 1
    static let minorVersion = 2
    static let usernamePrompt = Data("Username:".utf8).base64EncodedString()
    static let passwordPrompt = Data("Password:".utf8).base64EncodedString()

    /// What the connection must do after a command.
    enum Action: Equatable, Sendable {
        /// Nothing to send.
        case none
        /// Send this line.
        case reply(String)
        /// Check these credentials, then report the outcome to ``finish(_:outcome:)``.
        case verify(Credentials)
        /// Close the connection.
        case close(MailAdapterError)
    }

    /// A login and password to check, for one request.
    struct Credentials: Equatable, Sendable {
        let id: UInt32
        let login: String
        let password: String
        /// The address of the SMTP client, for the login throttle.
        let remoteAddress: String?
    }

    /// The outcome of a check.
    enum Outcome: Equatable, Sendable {
        /// The password matched; the canonical login.
        case success(login: String)
        /// Wrong password, unknown, blocked or locked account: one answer for all.
        case failure(login: String)
        /// The directory can't answer now.
        case temporaryFailure(reason: String)
    }

    private enum Pending: Sendable {
        case plainResponse(remoteAddress: String?)
        case loginUsername(remoteAddress: String?)
        case loginPassword(username: String, remoteAddress: String?)
    }

    private var versionReceived = false
    private var pending: [UInt32: Pending] = [:]

    /// The lines the server sends when a client connects.
    static func handshake(processID: Int32, connectionID: Int, cookie: String) -> [String] {
        [
            "VERSION\t\(majorVersion)\t\(minorVersion)",
            "MECH\tPLAIN\tplaintext",
            "MECH\tLOGIN\tplaintext",
            "SPID\t\(processID)",
            "CUID\t\(connectionID)",
            "COOKIE\t\(cookie)",
            "DONE",
        ]
    }

    /// Handles one command from the client.
    mutating func received(_ command: DovecotAuthCommand) -> Action {
        if case .version(let major, _) = command {
            guard major == Self.majorVersion else {
                return .close(MailAdapterError(.unsupportedVersion, "the auth client speaks major version \(major), not \(Self.majorVersion)"))
            }
            versionReceived = true
            return .none
        }
        guard versionReceived else { return .close(.malformed("the auth client did not start with VERSION")) }
        switch command {
        case .version, .clientProcess, .other:
            // The client's pid is for logs only; unknown commands are ignored as the protocol asks.
            return .none
        case .authenticate(let request):
            return start(request)
        case .continue(let id, let response):
            guard let state = pending.removeValue(forKey: id) else {
                return .reply(Self.failure(id: id, reason: "unknown request"))
            }
            return step(id: id, state: state, response: response)
        }
    }

    /// The reply line for the outcome of a check.
    func finish(_ credentials: Credentials, outcome: Outcome) -> String {
        switch outcome {
        case .success(let login):
            return DovecotTabEscaping.line(["OK", String(credentials.id), "user=\(login)"])
        case .failure(let login):
            return DovecotTabEscaping.line(["FAIL", String(credentials.id), "user=\(login)"])
        case .temporaryFailure(let reason):
            return DovecotTabEscaping.line(["FAIL", String(credentials.id), "temp", "reason=\(reason)"])
        }
    }

    private mutating func start(_ request: DovecotAuthCommand.AuthRequest) -> Action {
        guard pending[request.id] == nil else { return .reply(Self.failure(id: request.id, reason: "duplicate request id")) }
        guard pending.count < MailAdapterDefaults.authMaximumPendingRequests else {
            return .close(.overLimit("more than \(MailAdapterDefaults.authMaximumPendingRequests) authentications in progress"))
        }
        let remote = request.remoteAddress
        switch request.mechanism {
        case "PLAIN":
            guard let response = request.initialResponse else {
                pending[request.id] = .plainResponse(remoteAddress: remote)
                return .reply("CONT\t\(request.id)\t")
            }
            return step(id: request.id, state: .plainResponse(remoteAddress: remote), response: response)
        case "LOGIN":
            guard let response = request.initialResponse, !response.isEmpty else {
                pending[request.id] = .loginUsername(remoteAddress: remote)
                return .reply("CONT\t\(request.id)\t\(Self.usernamePrompt)")
            }
            return step(id: request.id, state: .loginUsername(remoteAddress: remote), response: response)
        default:
            return .reply(Self.failure(id: request.id, reason: "unsupported authentication mechanism"))
        }
    }

    private mutating func step(id: UInt32, state: Pending, response: String) -> Action {
        guard let decoded = Data(base64Encoded: response) else {
            return .reply(Self.failure(id: id, reason: "invalid base64 data"))
        }
        switch state {
        case .plainResponse(let remote):
            // message = [authzid] NUL authcid NUL passwd (RFC 4616)
            let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return .reply(Self.failure(id: id, reason: "malformed PLAIN response")) }
            let authorization = String(decoding: parts[0], as: UTF8.self)
            let login = String(decoding: parts[1], as: UTF8.self)
            guard !login.isEmpty else { return .reply(Self.failure(id: id, reason: "empty login")) }
            // Logging in as one user to act as another is for master users, which Deputy
            // doesn't have: delegation is how one user reaches another's mailbox.
            guard authorization.isEmpty || authorization.lowercased() == login.lowercased() else {
                return .reply(DovecotTabEscaping.line(["FAIL", String(id), "user=\(login)", "reason=authorization identity not supported"]))
            }
            return .verify(Credentials(id: id, login: login, password: String(decoding: parts[2], as: UTF8.self), remoteAddress: remote))
        case .loginUsername(let remote):
            let username = String(decoding: decoded, as: UTF8.self)
            guard !username.isEmpty else { return .reply(Self.failure(id: id, reason: "empty login")) }
            pending[id] = .loginPassword(username: username, remoteAddress: remote)
            return .reply("CONT\t\(id)\t\(Self.passwordPrompt)")
        case .loginPassword(let username, let remote):
            return .verify(Credentials(id: id, login: username, password: String(decoding: decoded, as: UTF8.self), remoteAddress: remote))
        }
    }

    private static func failure(id: UInt32, reason: String) -> String {
        DovecotTabEscaping.line(["FAIL", String(id), "reason=\(reason)"])
    }
}
