import Logging
import DeputyCore
import DeputyProtocol
import Foundation

extension Session {
    /// Every request that changes the directory: builds the core command and commits it.
    mutating func change(_ request: Request) async -> Reply {
        let placeholder = environment.passwords.placeholder
        switch request {
        case .add(.user(let new)):
            // A user added without a password has none (no login matches) until an
            // administrator sets one: nothing to hash.
            let command = Command.addUser(NewUser(
                address: new.address, displayName: new.name ?? String(new.address.localPart),
                passwordHash: new.password == nil ? .none : placeholder,
                aliases: new.aliases, recoveryAddress: new.recovery, policy: new.policy
            ))
            if new.dryRun { return dryRun(command) }
            guard let password = new.password else { return await submit(command) }
            return await submit(command, password: password)
        case .add(.group(let new)):
            return await submit(.addGroup(NewGroup(
                address: new.address, name: new.name ?? String(new.address.localPart), kind: new.kind, members: new.members,
                membersMaySendAs: new.membersMaySendAs
            )))
        case .add(.service(let name, let password)):
            guard let password else { return await submit(.addServiceAccount(name, .none)) }
            return await submit(.addServiceAccount(name, placeholder), password: password)
        case .add(.policy(let name, let delegation)):
            return await submit(.addPolicy(EmailPolicy(name: name, mailboxDelegationAllowed: delegation)))
        case .add(.domain(let domain)):
            return await submit(.addDomain(domain))
        case .delete(.user(let address)):
            return await submit(.deleteUser(address))
        case .delete(.group(let address)):
            return await submit(.deleteGroup(address))
        case .delete(.service(let name)):
            return await submit(.deleteServiceAccount(name))
        case .delete(.policy(let name)):
            return await submit(.deletePolicy(name))
        case .delete(.domain(let domain)):
            return await submit(.removeDomain(domain))
        case .modify(.user(let address, let changes)):
            return await submit(.modifyUser(address, changes))
        case .modify(.userBlocked(let address, let blocked)):
            return await submit(.setBlocked(address, blocked))
        case .modify(.group(let address, let changes)):
            return await submit(.modifyGroup(address, changes))
        case .modify(.organization(let changes)):
            return await submit(.modifyOrganization(changes))
        case .modify(.policy(let name, let delegation)):
            return await submit(.modifyPolicy(EmailPolicy(name: name, mailboxDelegationAllowed: delegation)))
        case .modify(.spam(let changes)):
            return await submit(.modifySpamSettings(changes))
        case .passwd(let login, let old, let new):
            do {
                return try await passwd(login: login, old: old, new: new)
            } catch let error as RequestError {
                return error.reply
            } catch {
                return Reply(status: .error(code: .internal, text: "the request failed"))
            }
        case .grant(let role, let login):
            switch role {
            case .administrator: return await submit(.setRole(login, .administrator))
            case .superAdministrator: return await submit(.setRole(login, .superAdministrator))
            case .custom(let custom): return await submit(.grantCustomRole(login, custom))
            }
        case .revoke(let role, let login):
            switch role {
            case .administrator: return await submit(.setRole(login, .user))
            case .superAdministrator:
                return Reply(status: .error(code: .invalid, text: "the super administrator role is handed over with GRANT superadmin, never revoked"))
            case .custom(let custom): return await submit(.revokeCustomRole(login, custom))
            }
        case .delegate(let new):
            return await submit(.delegate(new))
        case .undelegate(let mailbox, let delegate):
            return await submit(.undelegate(mailbox: mailbox, delegate: delegate))
        case .bind, .reauth, .whoami, .ping, .help, .quit, .snapshot, .query, .audit, .atRevision, .mfa:
            return Reply(status: .error(code: .internal, text: "\(request.name) is not a change"))
        }
    }

    /// Commits `command`. A command that carries a password is first tried with a
    /// placeholder hash, so a refused one costs no hashing; then hashed and committed.
    mutating func submit(_ command: Command, password: String? = nil, reauthenticatedAt: Date? = nil) async -> Reply {
        var command = command
        let context = context(reauthenticatedAt: reauthenticatedAt)
        if let password {
            var trial = environment.committer.live.directory
            if case .failure = trial.apply(command, context: context) {
                // Refused whatever the password: commit as it is so the refusal is audited.
                return await commit(command, context: context)
            }
            do {
                command = command.replacingPasswordHash(with: try await environment.passwords.hash(password))
            } catch {
                return Reply(status: .error(code: .unavailable, text: "the server is shutting down"))
            }
        }
        return await commit(command, context: context)
    }

    /// Checks `command` against the current directory without changing anything (nothing is
    /// stored or audited): `OK would ...` or the refusal the command would get.
    func dryRun(_ command: Command) -> Reply {
        var trial = environment.committer.live.directory
        switch trial.apply(command, context: context()) {
        case .success(let result): return Reply(status: .ok(text: "would succeed: \(result.summary)"))
        case .failure(let error): return Self.reply(for: error)
        }
    }

    /// Commits `command`: `OK <summary> (revision <n>)`, the revision a query on any node
    /// can wait for to see the change (`revision=`), or the refusal.
    private func commit(_ command: Command, context: CommandContext) async -> Reply {
        do {
            let committed = try await environment.committer.commit(command, context: context)
            switch committed.result {
            case .success(let result): return Reply(status: .ok(text: "\(result.summary) (revision \(committed.revision))"))
            case .failure(let error): return Self.reply(for: error)
            }
        } catch let error as CommitUnavailable {
            // Cluster mode without the database: refused at once, never a false OK.
            if error.outcomeUnknown {
                return Reply(status: .error(code: .unavailable, text: "the change may or may not have been made: \(error.description); a query shows which"))
            }
            return Reply(status: .error(code: .unavailable, text: "the change was not made: \(error.description)"))
        } catch let error as CommitOutcomeUnknown {
            logger.error("commit failed, and may have reached the journal", metadata: ["error": "\(error)"])
            return Reply(status: .error(
                code: .storage,
                text: "the change may or may not have been made: the journal could not be written or taken back; once deputyd is restarted, a query shows which"
            ))
        } catch {
            logger.error("commit failed", metadata: ["error": "\(error)"])
            return Reply(status: .error(code: .storage, text: "the change could not be stored and was not made"))
        }
    }

    /// The wire form of a refusal; `denied`, `policy` and `reauth` name the rule in brackets.
    static func reply(for error: DirectoryError) -> Reply {
        let code = ErrorCode(rawValue: error.code.rawValue) ?? .internal
        if let rule = error.rule { return Reply(status: .error(code: code, text: "[\(rule.rawValue)] \(error.message)")) }
        return Reply(status: .error(code: code, text: error.message))
    }

    /// PASSWD: changing one's own password proves the old one, which counts as a
    /// re-authentication; administrators and user managers reset others' without it.
    private mutating func passwd(login: String, old: String?, new: String) async throws -> Reply {
        let now = environment.clock()
        if let directory = Optional(environment.committer.live.directory), let account = directory.account(forLogin: login) {
            if case .service(_) = account.principal {
                let name = try Operand.service(login)
                return await submit(.setServicePassword(name, environment.passwords.placeholder), password: new)
            }
        }
        let address = try Operand.address(login, "the login")
        // One's own account by any of its addresses: an alias, or another spelling of case.
        let target: Principal? = switch environment.committer.live.directory.owner(of: address) {
        case .user(let id)?, .alias(let id)?: .user(id)
        case .group?, nil: nil
        }
        guard let principal, target == principal else {
            return await submit(.setPassword(address, environment.passwords.placeholder), password: new)
        }
        // Only old= proves the password for this: not the window a BIND or REAUTH opened, or
        // anyone at a session left open could lock its owner out. Refused by the directory,
        // so that the refusal is audited with its rule, as every other.
        guard let old else {
            return await submit(.setPassword(address, environment.passwords.placeholder), password: new, reauthenticatedAt: .distantPast)
        }
        // Proved as the login this session bound with, whichever address named the account.
        let bound = self.login ?? address.value
        let account = environment.committer.live.directory.account(forLogin: bound)
        switch await environment.logins.verify(login: bound, password: old, account: account, source: peer, via: "passwd", now: now) {
        case .accepted: break
        case .refused: return Self.invalidCredentials
        case .unavailable: return Reply(status: .error(code: .unavailable, text: "the server is shutting down"))
        }
        reauthenticatedAt = now
        return await submit(.setPassword(address, environment.passwords.placeholder), password: new, reauthenticatedAt: now)
    }

    mutating func snapshot() async -> Reply {
        guard case .user(let id) = principal, environment.committer.live.directory.user(id: id)?.role.isAdministrator == true else {
            return Reply(status: .error(code: .denied, text: "[\(Rule.administratorsManage.rawValue)] SNAPSHOT needs an administrator"))
        }
        do {
            return Reply(status: .ok(text: try await environment.committer.snapshot()))
        } catch let error as CommitterError {
            return Reply(status: .error(code: .unavailable, text: error.description))
        } catch {
            logger.error("snapshot failed", metadata: ["error": "\(error)"])
            return Reply(status: .error(code: .storage, text: "the snapshot could not be written"))
        }
    }
}

extension Command {
    /// The same command with its password hash replaced.
    func replacingPasswordHash(with hash: PasswordHash) -> Command {
        switch self {
        case .addUser(var new):
            new.passwordHash = hash
            return .addUser(new)
        case .setPassword(let address, _): return .setPassword(address, hash)
        case .addServiceAccount(let name, _): return .addServiceAccount(name, hash)
        case .setServicePassword(let name, _): return .setServicePassword(name, hash)
        case .createOrganization, .modifyOrganization, .addDomain, .removeDomain, .deleteUser, .modifyUser, .setBlocked,
             .setRole, .grantCustomRole, .revokeCustomRole, .addGroup, .deleteGroup, .modifyGroup, .deleteServiceAccount,
             .delegate, .undelegate, .addPolicy, .modifyPolicy, .deletePolicy, .modifySpamSettings, .recordDelegatedSend,
             .recordLoginFailure, .recordLockout, .enrollSecondFactor, .confirmSecondFactor, .useSecondFactor, .removeSecondFactor:
            return self
        }
    }
}
