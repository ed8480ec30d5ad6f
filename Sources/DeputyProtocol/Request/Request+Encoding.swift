import DeputyCore
import Foundation

extension Request {
    /// The request as a line, ready for ``RequestEncoder``: what a client sends. The server
    /// decodes the line back into the same request.
    public var line: RequestLine {
        var words: [String] = []
        var named: [(String, String)] = []
        func put(_ key: String, _ value: String?) {
            if let value { named.append((key, value)) }
        }
        func put(_ key: String, _ flag: Bool?, yes: String = "yes", no: String = "no") {
            if let flag { named.append((key, flag ? yes : no)) }
        }
        func put(_ key: String, _ addresses: [EmailAddress]) {
            if !addresses.isEmpty { named.append((key, addresses.map(\.value).joined(separator: ","))) }
        }
        func put(_ key: String, _ domains: [DomainName]) {
            if !domains.isEmpty { named.append((key, domains.map(\.value).joined(separator: ","))) }
        }
        func put(_ key: String, _ update: FieldUpdate<String>?) {
            switch update {
            case .set(let value): named.append((key, value))
            case .clear: named.append((key, ""))
            case nil: break
            }
        }

        let verb: String
        switch self {
        case .atRevision(let revision, let request):
            let line = request.line
            return RequestLine(validatedVerb: line.verb, arguments: line.arguments + [.named(key: "revision", value: String(revision))])
        case .bind(let login, let password):
            verb = "BIND"
            words = [login] + (password.map { [$0] } ?? [])
        case .reauth(let password, let code):
            verb = "REAUTH"
            words = [password] + (code.map { [$0] } ?? [])
        case .whoami: verb = "WHOAMI"
        case .ping: verb = "PING"
        case .help(let topic):
            verb = "HELP"
            words = topic.map { [$0] } ?? []
        case .quit: verb = "QUIT"
        case .snapshot: verb = "SNAPSHOT"
        case .mfa(let mfa):
            verb = "MFA"
            switch mfa {
            case .enroll: words = ["ENROLL"]
            case .confirm(let code): words = ["CONFIRM", code]
            case .remove(let login): words = ["REMOVE"] + (login.map { [$0.value] } ?? [])
            case .status(let login): words = ["STATUS"] + (login.map { [$0] } ?? [])
            }
        case .add(let add):
            verb = "ADD"
            switch add {
            case .user(let new):
                words = ["USER", new.address.value]
                put("password", new.password)
                put("name", new.name)
                put("recovery", new.recovery?.value)
                put("aliases", new.aliases)
                put("policy", new.policy)
                if new.dryRun { put("dryrun", "yes") }
            case .group(let new):
                words = ["GROUP", new.address.value]
                put("name", new.name)
                put("kind", new.kind.rawValue)
                put("sendas", new.membersMaySendAs)
                put("members", new.members)
            case .service(let name, let password):
                words = ["SERVICE", name.value]
                put("password", password)
            case .policy(let name, let delegation):
                words = ["POLICY", name]
                put("delegation", delegation, yes: "on", no: "off")
            case .domain(let domain):
                words = ["DOMAIN", domain.value]
            }
        case .delete(let delete):
            verb = "DELETE"
            switch delete {
            case .user(let address): words = ["USER", address.value]
            case .group(let address): words = ["GROUP", address.value]
            case .service(let name): words = ["SERVICE", name.value]
            case .policy(let name): words = ["POLICY", name]
            case .domain(let domain): words = ["DOMAIN", domain.value]
            }
        case .modify(let modify):
            verb = "MODIFY"
            switch modify {
            case .user(let address, let changes):
                words = ["USER", address.value]
                put("name", changes.displayName)
                switch changes.recoveryAddress {
                case .set(let recovery): put("recovery", recovery.value)
                case .clear: put("recovery", "")
                case nil: break
                }
                put("addalias", changes.addAliases)
                put("delalias", changes.removeAliases)
                put("policy", changes.policy)
            case .userBlocked(let address, let blocked):
                words = ["USER", address.value]
                put("blocked", blocked)
            case .group(let address, let changes):
                words = ["GROUP", address.value]
                put("name", changes.name)
                put("sendas", changes.membersMaySendAs)
                put("addmember", changes.addMembers)
                put("delmember", changes.removeMembers)
                put("policy", changes.policy)
            case .organization(let changes):
                words = ["ORG"]
                put("name", changes.name)
                put("logo", changes.logo)
                put("defaultpolicy", changes.defaultPolicy)
                put("orggroups", changes.organizationGroups?.rawValue)
                put("personalgroups", changes.personalGroups?.rawValue)
                put("personalexternal", changes.personalGroupsAllowExternal)
                put("orgexternal", changes.organizationGroupsAllowExternal)
                put("reserved", changes.reservedLocalParts?.joined(separator: ","))
                put("adminfactor", changes.requireAdministratorFactor)
                put("auditdays", changes.auditRetentionDays.map(String.init))
            case .policy(let name, let delegation):
                words = ["POLICY", name]
                put("delegation", delegation, yes: "on", no: "off")
            case .spam(let changes):
                words = ["SPAM"]
                put("allowsender", changes.allowSenders)
                put("blocksender", changes.blockSenders)
                put("allowdomain", changes.allowDomains)
                put("blockdomain", changes.blockDomains)
                put("unallowsender", changes.unallowSenders)
                put("unblocksender", changes.unblockSenders)
                put("unallowdomain", changes.unallowDomains)
                put("unblockdomain", changes.unblockDomains)
                put("spf", changes.spfFailure?.rawValue)
                put("dkim", changes.dkimFailure?.rawValue)
                put("dmarc", changes.dmarcFailure?.rawValue)
                put("dnsbl", changes.dnsblFailure?.rawValue)
            }
        case .passwd(let login, let old, let new):
            verb = "PASSWD"
            words = [login]
            put("old", old)
            put("new", new)
        case .grant(let role, let login):
            verb = "GRANT"
            words = [role.name, login.value]
        case .revoke(let role, let login):
            verb = "REVOKE"
            words = [role.name, login.value]
        case .delegate(let new):
            verb = "DELEGATE"
            words = [new.mailbox.value, new.delegate.value, new.permissions.description]
            put("expires", new.expiresAt.map(Timestamp.format))
        case .undelegate(let mailbox, let delegate):
            verb = "UNDELEGATE"
            words = [mailbox.value, delegate.value]
        case .audit(let query):
            verb = "AUDIT"
            put("since", query.since.map(Timestamp.format))
            put("until", query.until.map(Timestamp.format))
            put("actor", query.actor)
            put("target", query.target)
            put("after", query.after.map(String.init))
            put("before", query.before.map(String.init))
            put("limit", query.limit.map(String.init))
        case .query(let query):
            verb = "QUERY"
            switch query {
            case .sendAs(let login, let address): words = ["SENDAS", login, address]
            case .sendOnBehalf(let login, let address): words = ["SENDONBEHALF", login, address]
            case .access(let user, let mailbox): words = ["ACCESS", user, mailbox]
            case .delegates(let mailbox): words = ["DELEGATES", mailbox]
            case .mailboxes(let user): words = ["MAILBOXES", user]
            case .senders(let address): words = ["SENDERS", address]
            case .holders(let address, let permission):
                words = ["HOLDERS", address]
                put("permission", permission?.rawValue)
            case .rights(let user): words = ["RIGHTS", user]
            case .privileges(let user): words = ["PRIVILEGES", user]
            case .members(let group, let expanded):
                words = ["MEMBERS", group]
                if expanded { put("expand", "yes") }
            case .entry(let key): words = ["ENTRY", key]
            case .delegations(let offset):
                words = ["DELEGATIONS"]
                if offset > 0 { put("offset", String(offset)) }
            case .search(let search):
                words = ["SEARCH", search.text]
                put("limit", search.limit.map(String.init))
                if search.offset > 0 { put("offset", String(search.offset)) }
            case .spam: words = ["SPAM"]
            case .policies: words = ["POLICIES"]
            case .organization: words = ["ORG"]
            }
        }
        return RequestLine(
            validatedVerb: verb,
            arguments: words.map(RequestLine.Argument.positional) + named.map { RequestLine.Argument.named(key: $0.0, value: $0.1) }
        )
    }

    /// The verb and subverb, as the verb table names them: `QUERY SENDAS`, `PING`. Used for
    /// logs and metrics labels, which must never carry a client's own words.
    public var name: String {
        switch self {
        case .bind: "BIND"
        case .reauth: "REAUTH"
        case .whoami: "WHOAMI"
        case .ping: "PING"
        case .help: "HELP"
        case .quit: "QUIT"
        case .snapshot: "SNAPSHOT"
        case .passwd: "PASSWD"
        case .grant: "GRANT"
        case .revoke: "REVOKE"
        case .delegate: "DELEGATE"
        case .undelegate: "UNDELEGATE"
        case .audit: "AUDIT"
        case .atRevision(_, let request): request.name
        case .mfa(let mfa):
            switch mfa {
            case .enroll: "MFA ENROLL"
            case .confirm: "MFA CONFIRM"
            case .remove: "MFA REMOVE"
            case .status: "MFA STATUS"
            }
        case .add(let add):
            switch add {
            case .user: "ADD USER"
            case .group: "ADD GROUP"
            case .service: "ADD SERVICE"
            case .policy: "ADD POLICY"
            case .domain: "ADD DOMAIN"
            }
        case .delete(let delete):
            switch delete {
            case .user: "DELETE USER"
            case .group: "DELETE GROUP"
            case .service: "DELETE SERVICE"
            case .policy: "DELETE POLICY"
            case .domain: "DELETE DOMAIN"
            }
        case .modify(let modify):
            switch modify {
            case .user, .userBlocked: "MODIFY USER"
            case .group: "MODIFY GROUP"
            case .organization: "MODIFY ORG"
            case .policy: "MODIFY POLICY"
            case .spam: "MODIFY SPAM"
            }
        case .query(let query):
            switch query {
            case .sendAs: "QUERY SENDAS"
            case .sendOnBehalf: "QUERY SENDONBEHALF"
            case .access: "QUERY ACCESS"
            case .delegates: "QUERY DELEGATES"
            case .mailboxes: "QUERY MAILBOXES"
            case .senders: "QUERY SENDERS"
            case .holders: "QUERY HOLDERS"
            case .rights: "QUERY RIGHTS"
            case .privileges: "QUERY PRIVILEGES"
            case .members: "QUERY MEMBERS"
            case .entry: "QUERY ENTRY"
            case .delegations: "QUERY DELEGATIONS"
            case .search: "QUERY SEARCH"
            case .spam: "QUERY SPAM"
            case .policies: "QUERY POLICIES"
            case .organization: "QUERY ORG"
            }
        }
    }
}

extension Request: CustomStringConvertible {
    /// The verb and subverb only, so that logging a request can never leak a password.
    public var description: String { name }
}
