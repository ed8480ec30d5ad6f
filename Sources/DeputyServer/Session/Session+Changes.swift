import Logging
import DeputyCore
import DeputyProtocol
import Foundation

extension Session {
    /// Every verb that changes the directory: builds the core command and commits it.
    mutating func change(_ entry: VerbSyntax.Entry, _ operands: [String], _ request: Request) async -> Reply {
        do {
            switch (entry.verb, entry.subverb) {
            case ("PASSWD", _):
                return try await passwd(login: operands[0], old: request.named("old"), new: request.named("new") ?? "")
            case ("GRANT", _), ("REVOKE", _):
                return await submit(try roleCommand(grant: entry.verb == "GRANT", role: operands[0], login: operands[1]))
            default:
                let (command, password) = try command(for: entry, operands, request)
                if request.named("dryrun") == "yes" { return dryRun(command) }
                return await submit(command, password: password)
            }
        } catch let error as RequestError {
            return error.reply
        } catch {
            return Reply(status: .error(code: .internal, text: "the request failed"))
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

    private func commit(_ command: Command, context: CommandContext) async -> Reply {
        do {
            switch try await environment.committer.commit(command, context: context) {
            case .success(let result): return Reply(status: .ok(text: result.summary))
            case .failure(let error): return Self.reply(for: error)
            }
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

    // MARK: - Commands

    private func command(for entry: VerbSyntax.Entry, _ operands: [String], _ request: Request) throws(RequestError) -> (Command, String?) {
        let placeholder = environment.passwords.placeholder
        switch (entry.verb, entry.subverb ?? "") {
        case ("ADD", "USER"):
            let new = NewUser(
                address: try Operand.address(operands[0], "the address"), displayName: request.named("name") ?? String(operands[0].prefix { $0 != "@" }),
                passwordHash: placeholder, aliases: try Operand.addresses(request.named("aliases"), "an alias"),
                recoveryAddress: try request.named("recovery").map { v throws(RequestError) in try Operand.address(v, "the recovery address") },
                policy: request.named("policy")
            )
            // A user added without a password gets a random one: the account can't log in
            // until an administrator sets one.
            return (.addUser(new), request.named("password") ?? Self.randomSecret())
        case ("ADD", "GROUP"):
            let kind = request.named("kind").flatMap(GroupKind.init(rawValue:)) ?? .organization
            return (.addGroup(NewGroup(
                address: try Operand.address(operands[0], "the address"), name: request.named("name") ?? String(operands[0].prefix { $0 != "@" }),
                kind: kind, members: try Operand.addresses(request.named("members"), "a member"),
                membersMaySendAs: Operand.yes(request.named("sendas")) ?? false
            )), nil)
        case ("ADD", "SERVICE"):
            return (.addServiceAccount(try Operand.service(operands[0]), placeholder), request.named("password") ?? Self.randomSecret())
        case ("ADD", "POLICY"):
            return (.addPolicy(EmailPolicy(name: operands[0], mailboxDelegationAllowed: Operand.yes(request.named("delegation")) ?? true)), nil)
        case ("ADD", "DOMAIN"):
            return (.addDomain(try Operand.domain(operands[0])), nil)
        case ("DELETE", "USER"):
            return (.deleteUser(try Operand.address(operands[0], "the address")), nil)
        case ("DELETE", "GROUP"):
            return (.deleteGroup(try Operand.address(operands[0], "the address")), nil)
        case ("DELETE", "SERVICE"):
            return (.deleteServiceAccount(try Operand.service(operands[0])), nil)
        case ("DELETE", "POLICY"):
            return (.deletePolicy(operands[0]), nil)
        case ("DELETE", "DOMAIN"):
            return (.removeDomain(try Operand.domain(operands[0])), nil)
        case ("MODIFY", "USER"):
            return (try modifyUser(operands[0], request), nil)
        case ("MODIFY", "GROUP"):
            let policy: FieldUpdate<String>? = request.named("policy").map { $0.isEmpty ? .clear : .set($0) }
            return (.modifyGroup(try Operand.address(operands[0], "the address"), GroupChanges(
                name: request.named("name"), membersMaySendAs: Operand.yes(request.named("sendas")), policy: policy,
                addMembers: try Operand.addresses(request.named("addmember"), "a member"),
                removeMembers: try Operand.addresses(request.named("delmember"), "a member")
            )), nil)
        case ("MODIFY", "ORG"):
            let logo: FieldUpdate<String>? = request.named("logo").map { $0.isEmpty ? .clear : .set($0) }
            return (.modifyOrganization(OrganizationChanges(
                name: request.named("name"), logo: logo, defaultPolicy: request.named("defaultpolicy"),
                organizationGroups: Operand.groupLevel(request.named("orggroups")),
                personalGroups: Operand.groupLevel(request.named("personalgroups")),
                personalGroupsAllowExternal: Operand.yes(request.named("personalexternal")),
                organizationGroupsAllowExternal: Operand.yes(request.named("orgexternal")),
                reservedLocalParts: request.named("reserved").map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            )), nil)
        case ("MODIFY", "POLICY"):
            guard let delegation = Operand.yes(request.named("delegation")) else { throw .invalid("nothing to change") }
            return (.modifyPolicy(EmailPolicy(name: operands[0], mailboxDelegationAllowed: delegation)), nil)
        case ("MODIFY", "SPAM"):
            return (.modifySpamSettings(SpamChanges(
                allowSenders: try Operand.addresses(request.named("allowsender"), "a sender"),
                unallowSenders: try Operand.addresses(request.named("unallowsender"), "a sender"),
                blockSenders: try Operand.addresses(request.named("blocksender"), "a sender"),
                unblockSenders: try Operand.addresses(request.named("unblocksender"), "a sender"),
                allowDomains: try Operand.domains(request.named("allowdomain")),
                unallowDomains: try Operand.domains(request.named("unallowdomain")),
                blockDomains: try Operand.domains(request.named("blockdomain")),
                unblockDomains: try Operand.domains(request.named("unblockdomain")),
                spfFailure: try Operand.spamAction(request.named("spf"), "spf"),
                dkimFailure: try Operand.spamAction(request.named("dkim"), "dkim"),
                dmarcFailure: try Operand.spamAction(request.named("dmarc"), "dmarc"),
                dnsblFailure: try Operand.spamAction(request.named("dnsbl"), "dnsbl")
            )), nil)
        case ("DELEGATE", _):
            guard let permissions = PermissionSet(parsing: operands[2]) else {
                throw .invalid("permissions is a comma list of read, manage, sendonbehalf, sendas")
            }
            let expiry = try request.named("expires").map { v throws(RequestError) in try Operand.timestamp(v, "expires") }
            return (.delegate(NewDelegation(
                mailbox: try Operand.address(operands[0], "the mailbox"), delegate: try Operand.address(operands[1], "the delegate"),
                permissions: permissions, expiresAt: expiry
            )), nil)
        case ("UNDELEGATE", _):
            return (.undelegate(mailbox: try Operand.address(operands[0], "the mailbox"), delegate: try Operand.address(operands[1], "the delegate")), nil)
        default:
            throw RequestError(.unknown, "\(entry.name) is not a change")
        }
    }

    private func modifyUser(_ addressText: String, _ request: Request) throws(RequestError) -> Command {
        let address = try Operand.address(addressText, "the address")
        if let blocked = Operand.yes(request.named("blocked")) {
            guard request.namedArguments.count == 1 else {
                throw .invalid("blocked= can't be combined with other changes in one request")
            }
            return .setBlocked(address, blocked)
        }
        let recovery: FieldUpdate<EmailAddress>? = try request.named("recovery").map { v throws(RequestError) in
            v.isEmpty ? .clear : .set(try Operand.address(v, "the recovery address"))
        }
        let policy: FieldUpdate<String>? = request.named("policy").map { $0.isEmpty ? .clear : .set($0) }
        return .modifyUser(address, UserChanges(
            displayName: request.named("name"), recoveryAddress: recovery,
            addAliases: try Operand.addresses(request.named("addalias"), "an alias"),
            removeAliases: try Operand.addresses(request.named("delalias"), "an alias"), policy: policy
        ))
    }

    private func roleCommand(grant: Bool, role text: String, login: String) throws(RequestError) -> Command {
        let address = try Operand.address(login, "the login")
        switch text.lowercased() {
        case "admin": return .setRole(address, grant ? .administrator : .user)
        case "superadmin":
            guard grant else { throw .invalid("the super administrator role is handed over with GRANT superadmin, never revoked") }
            return .setRole(address, .superAdministrator)
        default:
            guard let role = CustomAdminRole(rawValue: text.lowercased()) else {
                throw .invalid("the role is admin, superadmin or one of \(CustomAdminRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return grant ? .grantCustomRole(address, role) : .revokeCustomRole(address, role)
        }
    }

    /// PASSWD: changing one's own password proves the old one, which counts as a
    /// re-authentication; administrators and user managers reset others' without it.
    private mutating func passwd(login: String, old: String?, new: String) async throws -> Reply {
        guard !new.isEmpty else { throw RequestError.invalid("the new password can't be empty") }
        let now = environment.clock()
        if let directory = Optional(environment.committer.live.directory), let account = directory.account(forLogin: login) {
            if case .service(_) = account.principal {
                let name = try Operand.service(login)
                return await submit(.setServicePassword(name, environment.passwords.placeholder), password: new)
            }
        }
        let address = try Operand.address(login, "the login")
        guard address.value == self.login else {
            return await submit(.setPassword(address, environment.passwords.placeholder), password: new)
        }
        guard let old else { throw RequestError(.reauth, "changing your own password needs old=<current password>") }
        let account = environment.committer.live.directory.account(forLogin: address.value)
        switch await environment.logins.verify(login: address.value, password: old, account: account, source: peer, via: "passwd", now: now) {
        case .accepted: break
        case .refused: return Self.invalidCredentials
        case .unavailable: return Reply(status: .error(code: .unavailable, text: "the server is shutting down"))
        }
        reauthenticatedAt = now
        return await submit(.setPassword(address, environment.passwords.placeholder), password: new, reauthenticatedAt: now)
    }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next(), radix: 36) }.joined()
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
        default: return self
        }
    }
}
