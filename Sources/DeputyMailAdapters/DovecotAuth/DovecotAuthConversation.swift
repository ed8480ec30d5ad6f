import DeputyServer
import DeputyCore
import Logging
import NIOCore

/// Checks SMTP AUTH logins for Postfix (`smtpd_sasl_type = dovecot`) against the directory,
/// with the same password hashes and login throttle as `BIND`.
///
/// Only users log in this way: a service account's login fails like a wrong password. An
/// unknown login is verified against a decoy hash, so that it takes as long as a known one.
struct DovecotAuthConversation: MailAdapterConversation {
    let environment: MailAdapterEnvironment
    let identity: DovecotAuthServerIdentity
    let connectionID: Int
    /// The address of the auth client itself, for the throttle when `rip=` is missing.
    let peer: String
    let logger: Logger
    var lines: MailLineDecoder
    var machine = DovecotAuthMachine()

    init(environment: MailAdapterEnvironment, limits: MailAdapterLimits, identity: DovecotAuthServerIdentity, connectionID: Int, peer: String, logger: Logger) {
        self.environment = environment
        self.identity = identity
        self.connectionID = connectionID
        self.peer = peer
        self.logger = logger
        self.lines = MailLineDecoder(maximumLength: limits.maximumRequestSize)
    }

    func opening(into output: inout ByteBuffer) {
        for line in DovecotAuthMachine.handshake(processID: identity.processID, connectionID: connectionID, cookie: identity.cookie) {
            output.writeString(line + "\n")
        }
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let line = try lines.decode(&input) {
            switch machine.received(try DovecotAuthCommand(line: line.readableBytesView)) {
            case .none:
                break
            case .reply(let reply):
                output.writeString(reply + "\n")
            case .verify(let credentials):
                let outcome = await verify(credentials)
                output.writeString(machine.finish(credentials, outcome: outcome) + "\n")
            case .close(let error):
                throw error
            }
        }
        return .keepOpen
    }

    private func verify(_ credentials: DovecotAuthMachine.Credentials) async -> DovecotAuthMachine.Outcome {
        guard environment.isReady() else { return .temporaryFailure(reason: "directory not ready") }
        let login = credentials.login
        let address = credentials.remoteAddress ?? peer
        let now = environment.clock()
        let account = environment.directory.directory.account(forLogin: login)
        let verdict = await environment.logins.verify(
            login: login, password: credentials.password, account: account, source: address, via: "dovecot-auth", now: now,
            eligible: { if case .user = $0.principal { true } else { false } }
        )
        switch verdict {
        case .unavailable:
            return .temporaryFailure(reason: "the server is shutting down")
        case .refused:
            logger.info("mail login failed", metadata: ["auth.login": "\(environment.logins.recordable(login, account: account).prefix(254))", "peer": "\(address)"])
            ServerMetrics.adapterLookup(.dovecotAuthFail)
            return .failure(login: login)
        case .accepted(let account):
            logger.info("mail login", metadata: ["auth.login": "\(account.login)", "peer": "\(address)"])
            ServerMetrics.adapterLookup(.dovecotAuthOK)
            return .success(login: account.login)
        }
    }
}
