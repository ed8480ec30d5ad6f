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
            logger.info("bind failed", metadata: ["auth.login": "\(login.prefix(254))", "peer": "\(peer)"])
            return Self.invalidCredentials
        case .accepted(let account):
            principal = account.principal
            self.login = account.login
            reauthenticatedAt = now
            logger[metadataKey: "auth.login"] = "\(account.login)"
            logger.info("bind", metadata: ["peer": "\(peer)"])
            return Reply(status: .ok(text: "bound as \(account.login)"))
        }
    }

    /// `BIND <service>` without a password: a service account whose name is the common name
    /// of the connection's verified client certificate. Anything else fails exactly like a
    /// wrong password, and counts as one.
    mutating func bindByCertificate(login: String) async -> Reply {
        let now = environment.clock()
        let account = environment.committer.live.directory.account(forLogin: login)
        guard let account, case .service = account.principal, let certificateName,
            certificateName.lowercased() == account.login.lowercased(), !account.blocked,
            environment.throttle.admit(account: account.login, address: ClientSource.key(peer), now: now)
        else {
            let lock = environment.throttle.recordFailure(account: account?.login ?? login, address: ClientSource.key(peer), now: now, judged: false)
            await environment.loginRecorder.recordFailure(LoginAttempt(login: account?.login ?? login, source: ClientSource.key(peer), via: "bind-certificate"), judged: true, lock: lock, at: now)
            logger.info("bind by certificate failed", metadata: ["auth.login": "\(login.prefix(254))", "peer": "\(peer)"])
            return Self.invalidCredentials
        }
        principal = account.principal
        self.login = account.login
        logger[metadataKey: "auth.login"] = "\(account.login)"
        logger.info("bind by certificate", metadata: ["peer": "\(peer)"])
        return Reply(status: .ok(text: "bound as \(account.login)"))
    }

    mutating func reauthenticate(password: String) async -> Reply {
        guard let login else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let now = environment.clock()
        let account = environment.committer.live.directory.account(forLogin: login)
        guard case .accepted = await environment.logins.verify(login: login, password: password, account: account, source: peer, via: "reauth", now: now) else {
            return Self.invalidCredentials
        }
        reauthenticatedAt = now
        return Reply(status: .ok(text: "re-authenticated for \(Int(CommandContext.reauthenticationWindow / 60)) minutes"))
    }

    func whoami() -> Reply {
        guard let principal, let login else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let directory = environment.committer.live.directory
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
        let fresh = CommandContext(actor: principal, time: environment.clock(), reauthenticatedAt: reauthenticatedAt).isRecentlyReauthenticated
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
