import HashTreeCollections
import Foundation

/// How a command appears in the audit log: an action, a target and details, never a secret.
struct CommandDescription {
    let action: String
    let target: String
    let detail: String
    /// Who the record names as acting, where that is not the command's actor: the delegate
    /// of a delegated send, which the daemon records on its behalf.
    var actor: (login: String, principal: Principal)? = nil
}

extension Directory {
    func describe(_ command: Command) -> CommandDescription {
        switch command {
        case .createOrganization(let new):
            return .init(action: "create-organization", target: new.domain.value, detail: "name=\(new.name) superadmin=\(new.superAdministrator)")
        case .modifyOrganization(let changes):
            var parts: [String] = []
            if let name = changes.name { parts.append("name=\(name)") }
            switch changes.logo {
            case .set(let logo): parts.append("logo=\(logo)")
            case .clear: parts.append("logo=")
            case nil: break
            }
            if let policy = changes.defaultPolicy { parts.append("defaultpolicy=\(policy)") }
            if let level = changes.organizationGroups { parts.append("orggroups=\(level.rawValue)") }
            if let level = changes.personalGroups { parts.append("personalgroups=\(level.rawValue)") }
            if let external = changes.personalGroupsAllowExternal { parts.append("personalexternal=\(external)") }
            if let external = changes.organizationGroupsAllowExternal { parts.append("orgexternal=\(external)") }
            if let reserved = changes.reservedLocalParts { parts.append("reserved=\(reserved.joined(separator: ","))") }
            if let required = changes.requireAdministratorFactor { parts.append("adminfactor=\(required)") }
            if let days = changes.auditRetentionDays { parts.append("auditdays=\(days)") }
            return .init(action: "modify-organization", target: organization?.domains.first?.value ?? "", detail: parts.joined(separator: " "))
        case .addDomain(let domain):
            return .init(action: "add-domain", target: domain.value, detail: "")
        case .removeDomain(let domain):
            return .init(action: "remove-domain", target: domain.value, detail: "")
        case .addUser(let new):
            return .init(action: "add-user", target: new.address.value, detail: new.aliases.isEmpty ? "" : "aliases=\(new.aliases.map(\.value).joined(separator: ","))")
        case .deleteUser(let address):
            return .init(action: "delete-user", target: address.value, detail: "")
        case .modifyUser(let address, let changes):
            var parts: [String] = []
            if changes.displayName != nil { parts.append("name") }
            if changes.recoveryAddress != nil { parts.append("recovery") }
            if !changes.addAliases.isEmpty { parts.append("addalias=\(changes.addAliases.map(\.value).joined(separator: ","))") }
            if !changes.removeAliases.isEmpty { parts.append("delalias=\(changes.removeAliases.map(\.value).joined(separator: ","))") }
            if changes.policy != nil { parts.append("policy") }
            return .init(action: "modify-user", target: address.value, detail: parts.joined(separator: " "))
        case .setPassword(let address, _):
            return .init(action: "set-password", target: address.value, detail: "")
        case .setBlocked(let address, let blocked):
            return .init(action: blocked ? "block-user" : "unblock-user", target: address.value, detail: "")
        case .setRole(let address, let role):
            return .init(action: "set-role", target: address.value, detail: "role=\(role.rawValue)")
        case .grantCustomRole(let address, let role):
            return .init(action: "grant-custom-role", target: address.value, detail: "role=\(role.rawValue)")
        case .revokeCustomRole(let address, let role):
            return .init(action: "revoke-custom-role", target: address.value, detail: "role=\(role.rawValue)")
        case .addGroup(let new):
            return .init(action: "add-group", target: new.address.value, detail: "kind=\(new.kind.rawValue) sendas=\(new.membersMaySendAs)")
        case .deleteGroup(let address):
            return .init(action: "delete-group", target: address.value, detail: "")
        case .modifyGroup(let address, let changes):
            var parts: [String] = []
            if changes.name != nil { parts.append("name") }
            if let sendAs = changes.membersMaySendAs { parts.append("sendas=\(sendAs)") }
            if changes.policy != nil { parts.append("policy") }
            if !changes.addMembers.isEmpty { parts.append("addmember=\(changes.addMembers.map(\.value).joined(separator: ","))") }
            if !changes.removeMembers.isEmpty { parts.append("delmember=\(changes.removeMembers.map(\.value).joined(separator: ","))") }
            return .init(action: "modify-group", target: address.value, detail: parts.joined(separator: " "))
        case .addServiceAccount(let name, _):
            return .init(action: "add-service", target: name.value, detail: "")
        case .deleteServiceAccount(let name):
            return .init(action: "delete-service", target: name.value, detail: "")
        case .setServicePassword(let name, _):
            return .init(action: "set-service-password", target: name.value, detail: "")
        case .delegate(let new):
            let expiry = new.expiresAt.map { " expires=\(Timestamp.format($0))" } ?? ""
            return .init(action: "delegate", target: new.mailbox.value, detail: "delegate=\(new.delegate) permissions=\(new.permissions)\(expiry)")
        case .undelegate(let mailbox, let delegate):
            return .init(action: "undelegate", target: mailbox.value, detail: "delegate=\(delegate)")
        case .addPolicy(let policy):
            return .init(action: "add-policy", target: policy.name, detail: "delegation=\(policy.mailboxDelegationAllowed)")
        case .modifyPolicy(let policy):
            return .init(action: "modify-policy", target: policy.name, detail: "delegation=\(policy.mailboxDelegationAllowed)")
        case .deletePolicy(let name):
            return .init(action: "delete-policy", target: name, detail: "")
        case .recordDelegatedSend(let login, let sender, let delegation, let details):
            var detail = "grant=\(delegation)"
            if let grant = delegations[delegation] {
                detail += " permissions=\(grant.permissions) grantedby=\(loginName(of: grant.grantedBy))"
            }
            if let details {
                detail += " permission=\(details.permission.rawValue) path=\(details.path)"
                if let queueID = details.queueID { detail += " queueid=\(queueID)" }
                if let messageID = details.messageID { detail += " messageid=\(messageID)" }
            }
            let delegate = user(at: login).map { (login: $0.address.value, principal: Principal.user($0.id)) }
            return .init(action: "delegated-send", target: sender.value, detail: detail, actor: delegate)
        case .recordLoginFailure(let attempt):
            return .init(action: "login-failed", target: attempt.login, detail: "source=\(attempt.source) via=\(attempt.via)")
        case .recordLockout(let attempt):
            return .init(action: "login-locked", target: attempt.login, detail: "source=\(attempt.source) via=\(attempt.via) locked=\(attempt.locked ?? "login")")
        case .enrollSecondFactor(let address, _):
            return .init(action: "enroll-second-factor", target: address.value, detail: "")
        case .confirmSecondFactor(let address, _):
            return .init(action: "confirm-second-factor", target: address.value, detail: "")
        case .useSecondFactor(let address, let proof):
            let how: String
            switch proof {
            case .step: how = "code"
            case .recoveryCode: how = "recovery-code"
            }
            return .init(action: "use-second-factor", target: address.value, detail: "with=\(how)")
        case .removeSecondFactor(let address):
            return .init(action: "remove-second-factor", target: address.value, detail: "")
        case .modifySpamSettings:
            return .init(action: "modify-spam", target: organization?.domains.first?.value ?? "", detail: "")
        }
    }
}
