import DeputyCore
import DeputyProtocol

/// How the directory's answers look on the wire. Field names are part of the protocol
/// (protocol.md lists them); values never hold a password or a hash.
extension Session {
    static func record(_ decision: SendDecision, directory: Directory) -> ReplyRecord {
        var record = ReplyRecord()
        record.fields.reserveCapacity(5)
        record.append(key: "allowed", value: decision.allowed ? "yes" : "no")
        record.append(key: "via", value: decision.via)
        if let refusal = decision.refusal { record.append(key: "reason", value: refusal) }
        if let grant = decision.refusingGrant { record.append(key: "grant", value: grant.description) }
        switch decision.reason {
        case .delegation(let owner, let delegation, let group):
            record.append(key: "from", value: owner.value)
            record.append(key: "grant", value: delegation.description)
            if let group { record.append(key: "group", value: group.value) }
        case .groupMember(let group):
            record.append(key: "group", value: group.value)
        default:
            break
        }
        return record
    }

    /// One right of a reverse query: the login or mailbox it is about, the permission, and
    /// how it is held, as `QUERY SENDAS` says it.
    static func record(_ entry: RightEntry, leading: (key: String, value: String), directory: Directory) -> ReplyRecord {
        var result = ReplyRecord()
        result.append(key: leading.key, value: leading.value)
        result.append(key: "permission", value: entry.permission.rawValue)
        let decision = record(entry.decision, directory: directory)
        result.fields.append(contentsOf: decision.fields.filter { $0.key != "allowed" })
        return result
    }

    static func record(_ access: MailboxAccess) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "mailbox", value: access.mailbox.value)
        record.append(key: "owner", value: access.isOwner ? "yes" : "no")
        record.append(key: "permissions", value: access.permissions.description)
        if !access.grants.isEmpty {
            record.append(key: "grants", value: access.grants.map(\.delegation.description).joined(separator: ","))
        }
        let groups = access.grants.compactMap(\.viaGroup?.value)
        if !groups.isEmpty { record.append(key: "via", value: groups.joined(separator: ",")) }
        return record
    }

    static func record(_ view: DelegationView) -> ReplyRecord {
        var record = ReplyRecord()
        // Nine fields at most: one allocation, not four as the array doubles.
        record.fields.reserveCapacity(9)
        record.append(key: "id", value: view.delegation.description)
        record.append(key: "mailbox", value: view.mailbox.value)
        record.append(key: "delegate", value: view.delegate.value)
        record.append(key: "kind", value: view.delegateIsGroup ? "group" : "user")
        record.append(key: "permissions", value: view.permissions.description)
        record.append(key: "granted-by", value: view.grantedBy)
        record.append(key: "granted-at", value: Timestamp.format(view.grantedAt))
        if let expiry = view.expiresAt { record.append(key: "expires", value: Timestamp.format(expiry)) }
        record.append(key: "active", value: view.active ? "yes" : "no")
        return record
    }

    static func record(_ summary: PrivilegeSummary) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "user", value: summary.user.value)
        record.append(key: "role", value: summary.role.rawValue)
        record.append(key: "customroles", value: summary.customRoles.map(\.rawValue).joined(separator: ","))
        record.append(key: "blocked", value: summary.blocked ? "yes" : "no")
        record.append(key: "privileges", value: summary.privileges.map(\.rawValue).joined(separator: ","))
        return record
    }

    static func record(_ member: MemberView) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "member", value: member.address.value)
        record.append(key: "kind", value: member.external ? "external" : member.isGroup ? "group" : "user")
        record.append(key: "blocked", value: member.blocked ? "yes" : "no")
        if let via = member.via { record.append(key: "via", value: via.value) }
        return record
    }

    static func record(_ entry: Entry) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "dn", value: entry.distinguishedName)
        for attribute in entry.attributes {
            for value in attribute.values { record.append(key: attribute.name, value: value) }
        }
        return record
    }

    static func record(_ settings: SpamSettings) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "allowsenders", value: settings.allowedSenders.map(\.value).sorted().joined(separator: ","))
        record.append(key: "blocksenders", value: settings.blockedSenders.map(\.value).sorted().joined(separator: ","))
        record.append(key: "allowdomains", value: settings.allowedDomains.map(\.value).sorted().joined(separator: ","))
        record.append(key: "blockdomains", value: settings.blockedDomains.map(\.value).sorted().joined(separator: ","))
        record.append(key: "spf", value: settings.spfFailure.rawValue)
        record.append(key: "dkim", value: settings.dkimFailure.rawValue)
        record.append(key: "dmarc", value: settings.dmarcFailure.rawValue)
        record.append(key: "dnsbl", value: settings.dnsblFailure.rawValue)
        return record
    }

    static func record(_ audit: AuditRecord) -> ReplyRecord {
        var record = ReplyRecord()
        record.append(key: "seq", value: String(audit.sequence))
        record.append(key: "time", value: Timestamp.format(audit.time))
        record.append(key: "actor", value: audit.actor)
        record.append(key: "action", value: audit.action)
        record.append(key: "target", value: audit.target)
        if !audit.detail.isEmpty { record.append(key: "detail", value: audit.detail) }
        switch audit.outcome {
        case .applied:
            record.append(key: "result", value: "ok")
        case .refused(let code, let rule):
            record.append(key: "result", value: code.rawValue)
            if let rule { record.append(key: "rule", value: rule.rawValue) }
        }
        return record
    }
}
