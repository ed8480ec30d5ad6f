import DeputyCore
import DeputyProtocol

/// How the directory's answers look on the wire. Field names are part of the protocol
/// (protocol.md lists them); values never hold a password or a hash.
extension Session {
    /// The fields of a send decision, `allowed=` first unless `withAllowed` is `false`.
    static func write(_ decision: SendDecision, into writer: inout ReplyRecord.Writer, withAllowed: Bool = true) {
        if withAllowed { writer.append("allowed", decision.allowed ? "yes" : "no") }
        writer.append("via", decision.via)
        if let refusal = decision.refusal { writer.append("reason", refusal) }
        if let grant = decision.refusingGrant { writer.append("grant", decimal: grant.rawValue) }
        switch decision.reason {
        case .delegation(let owner, let delegation, let group):
            owner.withUTF8 { writer.append("from", utf8: $0) }
            writer.append("grant", decimal: delegation.rawValue)
            if let group { writer.append("group", group.value) }
        case .groupMember(let group):
            writer.append("group", group.value)
        default:
            break
        }
    }

    /// A `QUERY SENDERS` record: the login, then the decision.
    static func record(_ decision: SendDecision, login: EmailAddress) -> ReplyRecord {
        var writer = ReplyRecord.Writer()
        writer.append("login", login.value)
        write(decision, into: &writer)
        return writer.record
    }

    /// One right of a reverse query: the login or mailbox it is about, the permission, and
    /// how it is held, as `QUERY SENDAS` says it.
    static func record(_ entry: RightEntry, leading key: StaticString, _ value: String) -> ReplyRecord {
        var writer = ReplyRecord.Writer()
        writer.append(key, value)
        writer.append("permission", entry.permission.rawValue)
        write(entry.decision, into: &writer, withAllowed: false)
        return writer.record
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
        // Nine fields, about 200 bytes: one buffer.
        var writer = ReplyRecord.Writer(capacity: 256)
        write(view, into: &writer)
        return writer.record
    }

    /// The fields of a delegation, as `QUERY DELEGATES` and `QUERY DELEGATIONS` list it.
    static func write(_ view: DelegationView, into writer: inout ReplyRecord.Writer) {
        writer.append("id", decimal: view.delegation.rawValue)
        // Both from the bytes the view holds: no string made of either.
        view.withMailboxUTF8 { writer.append("mailbox", utf8: $0) }
        view.withDelegateUTF8 { writer.append("delegate", utf8: $0) }
        writer.append("kind", view.delegateIsGroup ? "group" : "user")
        writer.append("permissions", view.permissions.description)
        writer.append("granted-by", view.grantedBy)
        writer.append("granted-at", timestamp: view.grantedAt)
        if let expiry = view.expiresAt { writer.append("expires", timestamp: expiry) }
        writer.append("active", view.active ? "yes" : "no")
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
