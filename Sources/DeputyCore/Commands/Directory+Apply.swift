import HashTreeCollections
import Foundation

extension Directory {
    /// Applies `command` on behalf of `context.actor` at `context.time`.
    ///
    /// The one entry point for changes: it checks the actor's rights, validates the input,
    /// changes the directory and writes the audit log. A refused command changes nothing
    /// but the audit log, which records the refusal with the rule that caused it.
    @discardableResult
    public mutating func apply(_ command: Command, context: CommandContext) -> Result<CommandResult, DirectoryError> {
        revision += 1
        let description = describe(command)
        do {
            let actor = try resolveActor(context)
            // Every handler checks and validates everything before its first change, so a
            // refusal leaves the directory as it was without a copy to roll back to.
            let result = try perform(command, actor: actor, context: context)
            appendAudit(description, context: context, outcome: .applied)
            return .success(result)
        } catch {
            appendAudit(description, context: context, outcome: .refused(code: error.code, rule: error.rule))
            return .failure(error)
        }
    }

    private func resolveActor(_ context: CommandContext) throws(DirectoryError) -> Actor {
        switch context.actor {
        case .system:
            return Actor(principal: .system, user: nil)
        case .service:
            throw .denied(.serviceAccountsOnlyQuery, "service accounts may only query")
        case .user(let id):
            guard let user = users[id] else {
                throw .denied(.protectedSuperAdministrator, "the acting account does not exist")
            }
            guard !user.blocked else {
                throw .denied(.blockedAccount, "the acting account is blocked")
            }
            return Actor(principal: context.actor, user: user, factor: secondFactors[id])
        }
    }

    private mutating func perform(_ command: Command, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        if case .createOrganization(let new) = command {
            return try createOrganization(new, actor: actor, time: context.time)
        }
        guard organization != nil else {
            throw DirectoryError(.conflict, "the organisation does not exist yet")
        }
        try actor.requireFactorWhereRequired(by: organization, for: command)
        switch command {
        case .createOrganization:
            preconditionFailure("handled above")
        case .modifyOrganization(let changes):
            return try modifyOrganization(changes, actor: actor, context: context)
        case .addDomain(let domain):
            return try addDomain(domain, actor: actor)
        case .removeDomain(let domain):
            return try removeDomain(domain, actor: actor)
        case .addUser(let new):
            return try addUser(new, actor: actor, time: context.time)
        case .deleteUser(let address):
            return try deleteUser(address, actor: actor)
        case .modifyUser(let address, let changes):
            return try modifyUser(address, changes, actor: actor)
        case .setPassword(let address, let hash):
            return try setPassword(address, hash, actor: actor, context: context)
        case .setBlocked(let address, let blocked):
            return try setBlocked(address, blocked, actor: actor)
        case .setRole(let address, let role):
            return try setRole(address, role, actor: actor, context: context)
        case .grantCustomRole(let address, let role):
            return try setCustomRole(address, role, granted: true, actor: actor)
        case .revokeCustomRole(let address, let role):
            return try setCustomRole(address, role, granted: false, actor: actor)
        case .addGroup(let new):
            return try addGroup(new, actor: actor, time: context.time)
        case .deleteGroup(let address):
            return try deleteGroup(address, actor: actor)
        case .modifyGroup(let address, let changes):
            return try modifyGroup(address, changes, actor: actor, time: context.time)
        case .addServiceAccount(let name, let hash):
            return try addServiceAccount(name, hash, actor: actor, time: context.time)
        case .deleteServiceAccount(let name):
            return try deleteServiceAccount(name, actor: actor)
        case .setServicePassword(let name, let hash):
            return try setServicePassword(name, hash, actor: actor)
        case .delegate(let new):
            return try delegate(new, actor: actor, time: context.time)
        case .undelegate(let mailbox, let delegate):
            return try undelegate(mailbox: mailbox, delegate: delegate, actor: actor)
        case .addPolicy(let policy):
            return try addPolicy(policy, actor: actor)
        case .modifyPolicy(let policy):
            return try modifyPolicy(policy, actor: actor)
        case .deletePolicy(let name):
            return try deletePolicy(name, actor: actor)
        case .modifySpamSettings(let changes):
            return try modifySpamSettings(changes, actor: actor)
        case .enrollSecondFactor(let address, let enrolment):
            return try enrollSecondFactor(address, enrolment, actor: actor, time: context.time)
        case .confirmSecondFactor(let address, let step):
            return try confirmSecondFactor(address, step: step, actor: actor)
        case .useSecondFactor(let address, let proof):
            return try useSecondFactor(address, proof, actor: actor)
        case .removeSecondFactor(let address):
            return try removeSecondFactor(address, actor: actor, context: context)
        case .recordDelegatedSend(let login, let sender, let delegation, _):
            guard actor.isSystem else { throw .denied(.serviceAccountsOnlyQuery, "only the daemon records mail servers' decisions") }
            guard user(at: login) != nil, owner(of: sender) != nil, delegations[delegation] != nil else {
                throw .notFound("the login, sender or delegation of the recorded send does not exist")
            }
            return CommandResult(entity: delegation, summary: "send recorded")
        case .recordLoginFailure, .recordLockout:
            guard actor.isSystem else { throw .denied(.serviceAccountsOnlyQuery, "only the daemon records logins") }
            return CommandResult(entity: nil, summary: "login recorded")
        }
    }

    private mutating func appendAudit(_ description: CommandDescription, context: CommandContext, outcome: AuditRecord.Outcome) {
        auditLog.append(
            time: context.time, actor: description.actor?.login ?? loginName(of: context.actor),
            actorPrincipal: description.actor?.principal ?? context.actor,
            action: description.action, target: description.target, detail: description.detail, outcome: outcome
        )
        if let days = organization?.auditRetentionDays {
            auditLog.trim(retention: Double(days) * 86_400, at: context.time)
        }
    }

    // MARK: - Shared lookups for handlers

    func requireUser(_ address: EmailAddress) throws(DirectoryError) -> User {
        guard let user = user(at: address) else { throw .notFound("no user has the address \(address)") }
        return user
    }

    func requireGroup(_ address: EmailAddress) throws(DirectoryError) -> Group {
        guard let group = group(at: address) else { throw .notFound("no group has the address \(address)") }
        return group
    }

    func requireFreeAddress(_ address: EmailAddress) throws(DirectoryError) {
        if owner(of: address) != nil { throw DirectoryError(.exists, "the address \(address) is already in use") }
        guard organization?.hosts(address.domain) ?? false else {
            throw .invalid("\(address.domain) is not a domain of the organisation")
        }
    }

    func requirePolicy(_ name: String) throws(DirectoryError) {
        guard policies[name] != nil else { throw .notFound("no email policy is called \(name)") }
    }

    static func validateDisplayName(_ name: String) throws(DirectoryError) {
        guard !name.isEmpty, name.count <= 256 else { throw .invalid("a name must be 1 to 256 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid("a name may not contain control characters")
        }
        // U+2028 and U+2029 end a line for some clients (JavaScript, Python's splitlines),
        // and the protocol's escapes have no form for them: a reply must not carry one.
        guard !name.unicodeScalars.contains(where: { [.lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }) else {
            throw .invalid("a name may not contain line or paragraph separators")
        }
    }
}
