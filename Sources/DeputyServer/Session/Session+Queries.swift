import DeputyCore
import DeputyProtocol
import Foundation

extension Session {
    /// Every QUERY, answered from the version of the directory published when it arrives.
    mutating func query(_ subverb: String, _ operands: [String], _ request: Request) -> Reply {
        guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let view = currentView(of: principal)
        return query(subverb, operands, request, view: view)
    }

    /// The version of the directory to answer from, with the principal's rights in it:
    /// kept from one request to the next until another version is published.
    mutating func currentView(of principal: Principal) -> SessionView {
        let live = environment.committer.live
        let generation = live.generation
        if let view, view.generation == generation, view.principal == principal { return view }
        let version = live.version
        let fresh = SessionView(
            generation: generation, principal: principal, version: version,
            authorization: Result { () throws(DirectoryError) in try version.directory.queryAuthorization(for: principal) }
        )
        view = fresh
        return fresh
    }

    private func query(_ subverb: String, _ operands: [String], _ request: Request, view: SessionView) -> Reply {
        let directory = view.version.directory
        let now = environment.clock()
        let kind: QueryKind
        switch subverb {
        case "SENDAS", "SENDONBEHALF": kind = .sending(login: operands[0])
        case "ACCESS": kind = .access(user: operands[0], mailbox: operands[1])
        case "DELEGATES": kind = .delegates(mailbox: operands[0])
        case "MAILBOXES": kind = .mailboxes(user: operands[0])
        case "SENDERS": kind = .senders(address: operands[0])
        case "PRIVILEGES": kind = .privileges(user: operands[0])
        case "MEMBERS": kind = .members(group: operands[0])
        case "ENTRY", "SEARCH": kind = .entries
        case "DELEGATIONS": kind = .allDelegations
        case "SPAM": kind = .spamSettings
        case "POLICIES": kind = .organization
        default: kind = .organization
        }
        do {
            try view.authorization.get().authorize(kind, in: directory)
        } catch {
            return Self.reply(for: error)
        }
        switch subverb {
        case "SENDAS":
            return Reply(records: [Self.record(directory.sendAs(login: operands[0], address: operands[1], at: now), directory: directory)], status: .ok(text: nil))
        case "SENDONBEHALF":
            return Reply(records: [Self.record(directory.sendOnBehalf(login: operands[0], address: operands[1], at: now), directory: directory)], status: .ok(text: nil))
        case "ACCESS":
            guard let access = directory.access(user: operands[0], mailbox: operands[1], at: now) else {
                return Reply(status: .error(code: .notfound, text: "no such user or mailbox"))
            }
            return Reply(records: [Self.record(access)], status: .ok(text: nil))
        case "DELEGATES":
            guard let delegates = directory.delegates(of: operands[0], at: now) else {
                return Reply(status: .error(code: .notfound, text: "no user has the address \(operands[0])"))
            }
            return listing(delegates.map(Self.record(_:)), noun: "delegates")
        case "MAILBOXES":
            guard let mailboxes = directory.mailboxes(of: operands[0], at: now) else {
                return Reply(status: .error(code: .notfound, text: "no user has the login \(operands[0])"))
            }
            return listing(mailboxes.map(Self.record(_:)), noun: "mailboxes")
        case "SENDERS":
            return listing(directory.senders(of: operands[0], at: now).map { entry in
                var record = Self.record(entry.decision, directory: directory)
                record.fields.insert(ReplyRecord.Field(key: "login", value: entry.login.value)!, at: 0)
                return record
            }, noun: "senders")
        case "PRIVILEGES":
            guard let summary = directory.privileges(of: operands[0]) else {
                return Reply(status: .error(code: .notfound, text: "no user has the login \(operands[0])"))
            }
            return Reply(records: [Self.record(summary)], status: .ok(text: nil))
        case "MEMBERS":
            guard let members = directory.members(of: operands[0]) else {
                return Reply(status: .error(code: .notfound, text: "no group has the address \(operands[0])"))
            }
            return listing(members.map(Self.record(_:)), noun: "members")
        case "ENTRY":
            guard let entry = directory.entry(for: operands[0]) else {
                return Reply(status: .error(code: .notfound, text: "no entry has that address or name"))
            }
            return Reply(records: [Self.record(visible(entry, in: directory))], status: .ok(text: nil))
        case "SEARCH":
            let filter: SearchFilter
            do {
                filter = try SearchFilterParser.parse(operands[0])
            } catch {
                return Reply(status: .error(code: .syntax, text: "filter: \(error.message)"))
            }
            let limit = min(request.named("limit").flatMap(Int.init) ?? environment.maximumListing, environment.maximumListing)
            // A page: the core finds limit + offset matches in its stable order, the first
            // offset are dropped; "truncated" still means more follow this page.
            let offset = Self.offset(request)
            let result = directory.search(filter, limit: limit + offset)
            let records = result.entries.dropFirst(offset).map { Self.record(visible($0, in: directory)) }
            return Reply(records: records, status: .ok(text: "\(records.count) entries\(result.truncated ? ", truncated at the limit" : "")"))
        case "DELEGATIONS":
            return listing(directory.allDelegations(at: now).dropFirst(Self.offset(request)).map(Self.record(_:)), noun: "delegations")
        case "SPAM":
            return Reply(records: [Self.record(directory.spamSettings)], status: .ok(text: nil))
        case "POLICIES":
            let defaultName = directory.organization?.defaultPolicy
            return listing(directory.policyList.map { policy in
                var record = ReplyRecord()
                record.append(key: "policy", value: policy.name)
                record.append(key: "delegation", value: policy.mailboxDelegationAllowed ? "on" : "off")
                record.append(key: "default", value: policy.name == defaultName ? "yes" : "no")
                return record
            }, noun: "policies")
        default:
            guard let organization = directory.organization, let entry = directory.entry(for: organization.distinguishedName) else {
                return Reply(status: .error(code: .notfound, text: "the organisation does not exist yet"))
            }
            return Reply(records: [Self.record(entry)], status: .ok(text: nil))
        }
    }

    /// The `offset=` of a paged query: how many results of its stable order to skip. The verb
    /// table has already refused anything but 1 to 9 decimal digits.
    static func offset(_ request: Request) -> Int {
        request.named("offset").flatMap(Int.init) ?? 0
    }

    /// A list reply, cut at the listing limit with a note saying so.
    func listing(_ records: [ReplyRecord], noun: String) -> Reply {
        let limit = environment.maximumListing
        if records.count > limit {
            return Reply(records: Array(records.prefix(limit)), status: .ok(text: "\(limit) of \(records.count) \(noun), truncated at the limit"))
        }
        return Reply(records: records, status: .ok(text: "\(records.count) \(noun)"))
    }

    /// The entry as this session may see it: private attributes only for administrators,
    /// the Helpdesk role, and the entry's own user.
    func visible(_ entry: Entry, in directory: Directory) -> Entry {
        guard case .user(let id) = principal, let user = directory.user(id: id) else { return entry.withoutPrivateAttributes() }
        if user.role.isAdministrator || user.customRoles.contains(.helpdesk) || entry.id == id { return entry }
        return entry.withoutPrivateAttributes()
    }

    /// AUDIT: newest first, filtered, bounded.
    mutating func audit(_ request: Request) -> Reply {
        guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let view = currentView(of: principal)
        let directory = view.version.directory
        do {
            try view.authorization.get().authorize(.audit, in: directory)
        } catch {
            return Self.reply(for: error)
        }
        let since: Date?
        let until: Date?
        do {
            since = try request.named("since").map { v throws(RequestError) in try Operand.timestamp(v, "since") }
            until = try request.named("until").map { v throws(RequestError) in try Operand.timestamp(v, "until") }
        } catch {
            return error.reply
        }
        let limit = min(request.named("limit").flatMap(Int.init) ?? 100, environment.maximumListing)
        let records = directory.auditLog.search(
            AuditFilter(
                since: since, until: until, actor: request.named("actor"), target: request.named("target"),
                afterSequence: request.named("after").flatMap(UInt64.init)
            ), limit: limit
        )
        return Reply(records: records.map(Self.record(_:)), status: .ok(text: "\(records.count) records"))
    }
}

/// The version of the directory a session answers from, and its principal's query rights
/// in that version.
struct SessionView: Sendable {
    /// The live directory's generation when the version was taken.
    let generation: UInt64
    let principal: Principal
    let version: DirectoryVersion
    let authorization: Result<QueryAuthorization, DirectoryError>
}
