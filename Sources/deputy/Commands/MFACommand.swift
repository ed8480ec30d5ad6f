import DeputyClient
import ArgumentParser
import DeputyCore
import DeputyProtocol

/// `deputy mfa enroll|confirm|remove|status`
struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa", abstract: "Your second factor (TOTP): enrol, confirm, remove, status.",
        subcommands: [Enroll.self, Confirm.self, Remove.self, Status.self]
    )

    struct Enroll: DeputyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol a TOTP second factor: prints its secret, otpauth:// URI and recovery codes, once.",
            discussion: "Scan the QR code (or add the URI) in an authenticator app, then run `deputy mfa confirm <code>` with the code it shows. Keep the recovery codes somewhere safe: each one replaces a code once. The QR code is drawn with the table output (the default), not with -o plain or -o json."
        )
        @OptionGroup var connection: ConnectionOptions
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let reply = try await session.send(.mfa(.enroll))
            session.printer.print(reply)
            if session.printer.format == .table, let uri = reply.records.first?.values(for: "uri").first, let code = QRCode(text: uri) {
                session.printer.printQRCode(code, caption: "Scan this with your authenticator app:")
            }
            return ExitStatus(reply.status)
        }
    }

    struct Confirm: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm the enrolled factor with a code from the authenticator.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var code: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            guard TOTP.isCode(code) else { throw CLIError(.usage, "the code is the \(TOTP.digits) digits the authenticator shows") }
            return try await session.run(.mfa(.confirm(code: code)))
        }
    }

    struct Remove: DeputyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove your second factor, or reset another user's (asks for your password and a code first)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Whose factor to reset; yours when left out.") var login: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let request = Request.mfa(.remove(login: try login.map { try ArgumentValues.address($0, "the login") }))
            return try await session.runReauthenticating(request)
        }
    }

    struct Status: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Whether you (or another user) have a second factor, and the recovery codes left.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var login: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.mfa(.status(login: login)))
        }
    }
}

extension DeputySession {
    /// Proves the password again, and asks for a code from the authenticator where the
    /// server says the account has a second factor: `REAUTH <password> [code]`. Returns the
    /// refusal, or `nil` once re-authenticated.
    func reauthenticate(purpose: String) async throws -> Reply? {
        let password = try PasswordSource.ask("Re-enter your password to \(purpose): ")
        var reply = try await send(.reauth(password: password))
        if case .error(.reauth, let text) = reply.status, text.contains("[\(Rule.secondFactor.rawValue)]") {
            let code = try PasswordSource.ask("Code from your authenticator (or a recovery code): ")
            reply = try await send(.reauth(password: password, code: code))
        }
        return reply.status.isOK ? nil : reply
    }

    /// The exit status of a refused re-authentication: a wrong password or code is a refused
    /// login (6), as at `BIND`; anything else as its reply says.
    static func status(ofRefusedReauthentication refusal: Reply) -> ExitStatus {
        if case .error(.auth, _) = refusal.status { return .loginRefused }
        return ExitStatus(refusal.status)
    }

    /// Sends `request`; where the server asks for a fresh re-authentication, asks for it
    /// (with a code where the account has a factor) and sends the request once more.
    func runReauthenticating(_ request: Request) async throws -> ExitStatus {
        var reply = try await send(request)
        if case .error(.reauth, _) = reply.status {
            if let refusal = try await reauthenticate(purpose: "confirm this sensitive change") {
                printer.printStatus(refusal.status)
                return Self.status(ofRefusedReauthentication: refusal)
            }
            reply = try await send(request)
        }
        printer.print(reply)
        return ExitStatus(reply.status)
    }
}
