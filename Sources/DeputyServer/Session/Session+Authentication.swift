import Logging
import DeputyCore
import DeputyProtocol
import Foundation

extension Session {
    /// The one answer to every failed login, whatever the cause (unknown login, wrong
    /// password, blocked or locked account), so a guesser learns nothing.
    static let invalidCredentials = Reply(status: .error(code: .auth, text: "invalid credentials"))

    mutating func bind(login: String, password: String) async -> Reply {
        let now = environment.clock()
        let account = environment.committer.live.directory.account(forLogin: login)
        switch await environment.logins.verify(login: login, password: password, account: account, source: peer, via: "bind", now: now) {
        case .unavailable:
            return Reply(status: .error(code: .unavailable, text: "the server is shutting down"))
        case .refused:
            logger.info("bind failed", metadata: ["auth.login": "\(environment.logins.recordable(login, account: account).prefix(254))", "peer": "\(peer)"])
            return Self.invalidCredentials
        case .accepted(let account):
            principal = account.principal
            self.login = account.login
            // A password alone opens the window for sensitive acts only where it is all the
            // account has; an account with a second factor opens it with REAUTH and a code.
            reauthenticatedAt = Self.hasConfirmedFactor(account.principal, in: environment.committer.live.directory) ? nil : now
            factorVerifiedAt = nil
            logger[metadataKey: "auth.login"] = "\(account.login)"
            logger.info("bind", metadata: ["peer": "\(peer)"])
            return Reply(status: .ok(text: "bound as \(account.login)"))
        }
    }

    /// `BIND <service>` without a password: a service account whose name is the common name
    /// of the connection's verified client certificate. Anything else fails like a wrong
    /// password: it counts against the address (not the login, since no secret was guessed),
    /// and is recorded in the audit log until a lock holds, as ``LoginVerifier`` records.
    mutating func bindByCertificate(login: String) async -> Reply {
        let now = environment.clock()
        let account = environment.committer.live.directory.account(forLogin: login)
        let key = account?.login ?? login
        let source = ClientSource.key(peer)
        let throttle = environment.throttle
        guard let account, case .service = account.principal, let certificateName,
            certificateName.lowercased() == account.login.lowercased(), !account.blocked,
            throttle.admit(account: key, address: source, now: now)
        else {
            // Refused unjudged while a lock holds: such attempts add nothing the lockout
            // record does not say, so binds without a certificate can't flood the log.
            let wasLocked = throttle.isLocked(account: key, address: source, now: now)
            let lock = throttle.recordFailure(account: key, address: source, now: now, judged: false)
            if !wasLocked || lock != nil {
                await environment.loginRecorder.recordFailure(
                    LoginAttempt(login: key, source: source, via: "bind-certificate"), judged: !wasLocked, lock: lock, at: now
                )
            }
            logger.info("bind by certificate failed", metadata: ["auth.login": "\(login.prefix(254))", "peer": "\(peer)"])
            return Self.invalidCredentials
        }
        // A success, as a password's is: the address becomes known to the login, and the
        // attempt admitted above no longer counts as one that may fail.
        throttle.recordSuccess(account: key, address: source, now: now)
        principal = account.principal
        self.login = account.login
        factorVerifiedAt = nil
        logger[metadataKey: "auth.login"] = "\(account.login)"
        logger.info("bind by certificate", metadata: ["peer": "\(peer)"])
        return Reply(status: .ok(text: "bound as \(account.login)"))
    }

    /// REAUTH: the password, and for an account with a confirmed second factor a code (or a
    /// recovery code) too; a wrong code fails like a wrong password and counts the same.
    mutating func reauthenticate(password: String, code: String?) async -> Reply {
        guard let login, let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let now = environment.clock()
        let directory = environment.committer.live.directory
        let account = directory.account(forLogin: login)
        let minutes = Int(CommandContext.reauthenticationWindow / 60)
        guard Self.hasConfirmedFactor(principal, in: directory), case .user(let id) = principal else {
            guard code == nil else {
                return Reply(status: .error(code: .invalid, text: "this account has no second factor; REAUTH takes the password alone"))
            }
            guard case .accepted = await environment.logins.verify(login: login, password: password, account: account, source: peer, via: "reauth", now: now) else {
                return Self.invalidCredentials
            }
            reauthenticatedAt = now
            return Reply(status: .ok(text: "re-authenticated for \(minutes) minutes"))
        }
        guard let code else {
            return Reply(status: .error(code: .reauth, text: "[\(Rule.secondFactor.rawValue)] this account has a second factor: REAUTH <password> <code>"))
        }
        let environment = self.environment
        let verdict = await environment.logins.verify(
            login: login, password: password, account: account, source: peer, via: "reauth", now: now,
            secondStep: { _ in await Self.proveFactor(code, user: id, environment: environment, now: now) }
        )
        guard case .accepted = verdict else { return Self.invalidCredentials }
        reauthenticatedAt = now
        factorVerifiedAt = now
        return Reply(status: .ok(text: "re-authenticated with the second factor for \(minutes) minutes"))
    }

    /// Whether `principal` is a user with a confirmed second factor.
    static func hasConfirmedFactor(_ principal: Principal, in directory: Directory) -> Bool {
        guard case .user(let id) = principal else { return false }
        return directory.secondFactor(of: id)?.confirmed ?? false
    }

    func whoami() -> Reply {
        guard let principal, let login else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let directory = environment.committer.live.directory
        // A blocked or deleted account can do nothing, and is told so as its queries are.
        do {
            _ = try directory.queryAuthorization(for: principal)
        } catch {
            return Self.reply(for: error)
        }
        var record = ReplyRecord()
        record.append(key: "login", value: login)
        switch principal {
        case .user(let id):
            guard let user = directory.user(id: id) else { return Reply(status: .error(code: .auth, text: "the account no longer exists")) }
            record.append(key: "kind", value: "user")
            record.append(key: "dn", value: user.distinguishedName)
            record.append(key: "role", value: user.role.rawValue)
            record.append(key: "customroles", value: user.customRoles.sorted().map(\.rawValue).joined(separator: ","))
        case .service:
            record.append(key: "kind", value: "service")
        case .system:
            record.append(key: "kind", value: "system")
        }
        let context = CommandContext(actor: principal, time: environment.clock(), reauthenticatedAt: reauthenticatedAt, factorVerifiedAt: factorVerifiedAt)
        let fresh = Self.hasConfirmedFactor(principal, in: directory) ? context.isRecentlyFactorVerified : context.isRecentlyReauthenticated
        record.append(key: "reauthenticated", value: fresh ? "yes" : "no")
        return Reply(records: [record], status: .ok(text: nil))
    }

    func help(topic: String?) -> Reply {
        guard let entries = VerbSyntax.help(topic: topic) else {
            return Reply(status: .error(code: .unknown, text: "no verb called \(topic ?? "")"))
        }
        return Reply(records: entries.map(\.helpRecord), status: .ok(text: "\(entries.count) entries"))
    }
}
