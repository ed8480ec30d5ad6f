import DeputyCore
import DeputyProtocol
import Foundation
import NIOCore

extension Session {
    /// Every QUERY, answered from the version of the directory published when it arrives.
    mutating func query(_ query: Request.Query) -> Reply {
        guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        refreshView(of: principal)
        // Moved out, as this method's answer reads the whole session beside it.
        var scratch = queryScratch
        queryScratch = QueryScratch()
        let now = queryNow()
        // The kept view, borrowed where it is: a copy would count a reference on the version
        // every thread answers from.
        let reply = answer(query, view: view.unsafelyUnwrapped, now: now, scratch: &scratch)
        queryScratch = scratch
        trimScratch()
        return reply
    }

    /// A `SENDAS`, `SENDONBEHALF` or `DELEGATES` lookup answered from the line's bytes, each
    /// address looked up as an ``AddressProbe`` rather than a `String`; `nil` where it must go
    /// as a ``Request`` through ``query(_:)``, which answers it the same: a session not
    /// bound, a user (who may ask only about their own login, or mailboxes they own, by
    /// name), addresses outside ASCII.
    mutating func query(_ lookup: LookupQuery) -> Reply? {
        guard let principal else { return nil }
        refreshView(of: principal)
        let now = queryNow()
        // The scratch written where it is held, beside the view: the answers are static, so
        // they touch only these two parts of the session. Moving the scratch out and back,
        // as the other queries must, counts and drops a reference on each of its parts.
        let reply = lookup.kind == .delegates
            ? Self.answerDelegates(lookup, view: view.unsafelyUnwrapped, limit: environment.maximumListing, now: now, scratch: &queryScratch)
            : Self.answer(lookup, view: view.unsafelyUnwrapped, now: now, scratch: &queryScratch)
        trimScratch()
        return reply
    }

    /// A `DELEGATES` lookup with its mailbox looked up as an ``AddressProbe``; `nil` for a
    /// user (who may ask only about mailboxes they own) or a mailbox outside ASCII.
    ///
    /// Static, as every lookup's answer is: a closure in a method would copy the session,
    /// counting a reference on everything it holds.
    private static func answerDelegates(
        _ lookup: LookupQuery, view: borrowing SessionView, limit: Int, now: Date, scratch: inout QueryScratch
    ) -> Reply? {
        guard case .success(let authorization) = view.authorization, authorization.mayListAnyMailboxDelegates else { return nil }
        guard let mailbox = lookup.withArguments({ mailbox, _ in AddressProbe(ascii: mailbox) }) else { return nil }
        let generation = view.generation
        return view.unmanagedVersion._withUnsafeGuaranteedRef { version in
            delegatesReply(
                directory: version.directory, generation: generation, limit: limit, scratch: &scratch,
                mailbox: { lookup.withArguments { mailbox, _ in String(decoding: mailbox, as: UTF8.self) } }
            ) { granters, body in
                version.directory.forEachDelegate(of: mailbox, at: now, granters: &granters, body)
            }
        }
    }

    /// The reply to `DELEGATES`: each delegation that `forEach` finds written as it comes,
    /// into the reply's one buffer; `mailbox` names the address when none has it.
    private static func delegatesReply(
        directory: Directory, generation: UInt64, limit: Int, scratch: inout QueryScratch, mailbox: () -> String,
        forEach: (inout GranterLogins, (DelegationView) -> Void) -> Bool
    ) -> Reply {
        // A record is about 200 bytes.
        var records = ReplyRecordsWriter(reusing: scratch.replyBuffer.take(), capacity: 1_024, recordBound: 256)
        var total = 0
        scratch.useGranterLogins(generation: generation, revision: directory.revision)
        let found = forEach(&scratch.granterLogins) { view in
            total += 1
            if total <= limit { records.append { Self.write(view, into: &$0) } }
        }
        guard found else {
            return Reply(status: .error(code: .notfound, text: "no user has the address \(mailbox())"))
        }
        scratch.replyBuffer = records.buffer
        return Reply(records: records, status: listingStatus(count: total, noun: "delegates", limit: limit))
    }

    private static func answer(_ lookup: LookupQuery, view: borrowing SessionView, now: Date, scratch: inout QueryScratch) -> Reply? {
        // The rights first: the probes are made only for a session that may use them.
        guard case .success(let authorization) = view.authorization, authorization.mayAskAboutAnyLogin else { return nil }
        let probes = lookup.withArguments { login, address in
            AddressProbe(ascii: login).flatMap { login in AddressProbe(ascii: address).map { (login: login, address: $0) } }
        }
        guard let probes else { return nil }
        return view.unmanagedVersion._withUnsafeGuaranteedRef { version in
            let decision = lookup.kind == .sendAs
                ? version.directory.sendAs(login: probes.login, address: probes.address, at: now)
                : version.directory.sendOnBehalf(login: probes.login, address: probes.address, at: now)
            return reply(decision, buffer: &scratch.replyBuffer)
        }
    }

    /// When the query in hand is answered as of: the clock read by the first query of a
    /// read, kept for the rest of its queries.
    private mutating func queryNow() -> Date {
        if let kept = queryTime, kept.requestStarted == requestStarted { return kept.now }
        let now = environment.clock()
        queryTime = (requestStarted, now)
        return now
    }

    /// Lets go of a reply buffer grown by a long listing, rather than keep it for the next
    /// query of a connection that may stay idle.
    private mutating func trimScratch() {
        if (queryScratch.replyBuffer?.capacity ?? 0) > QueryScratch.largestKeptReplyBuffer { queryScratch.replyBuffer = nil }
    }

    /// The version of the directory to answer from, with the principal's rights in it:
    /// kept from one request to the next until another version is published.
    ///
    /// While no version is published, a request reads one shared word (the generation)
    /// rather than taking the version from the reader.
    mutating func currentView(of principal: Principal) -> SessionView {
        refreshView(of: principal)
        return view.unsafelyUnwrapped
    }

    /// Makes ``view`` the current version's view for `principal`.
    mutating func refreshView(of principal: Principal) {
        // The generation first: the version taken after it is at least as new, so a view
        // is never kept past the generation it was made in.
        let generation = reader.live.generation
        if let view, view.generation == generation, view.principal == principal { return }
        let version = reader.current()
        heldVersion = version
        view = SessionView(
            principal: principal, unmanagedVersion: .passUnretained(version), generation: generation,
            authorization: Result { () throws(DirectoryError) in try version.directory.queryAuthorization(for: principal) }
        )
    }

    /// What a query needs the right to ask.
    static func kind(of query: Request.Query) -> QueryKind {
        switch query {
        case .sendAs(let login, _), .sendOnBehalf(let login, _): .sending(login: login)
        case .access(let user, let mailbox): .access(user: user, mailbox: mailbox)
        case .delegates(let mailbox): .delegates(mailbox: mailbox)
        case .mailboxes(let user): .mailboxes(user: user)
        case .senders(let address), .holders(let address, _): .senders(address: address)
        case .rights(let user): .mailboxes(user: user)
        case .privileges(let user): .privileges(user: user)
        case .members(let group, _): .members(group: group)
        case .entry, .search: .entries
        case .delegations: .allDelegations
        case .spam: .spamSettings
        case .policies, .organization: .organization
        }
    }

    /// The reply to `query` as of `now`, with what the last query left (``QueryScratch``).
    private func answer(_ query: Request.Query, view: borrowing SessionView, now: Date, scratch: inout QueryScratch) -> Reply {
        let authorization = view.authorization
        let generation = view.generation
        // The version borrowed, not counted (the session holds it): its reference count is
        // shared by every thread answering from it.
        return view.unmanagedVersion._withUnsafeGuaranteedRef { version in
            answer(query, directory: version.directory, generation: generation, authorization: authorization, now: now, scratch: &scratch)
        }
    }

    private func answer(
        _ query: Request.Query, directory: Directory, generation: UInt64, authorization: Result<QueryAuthorization, DirectoryError>,
        now: Date, scratch: inout QueryScratch
    ) -> Reply {
        do {
            try authorization.get().authorize(Self.kind(of: query), in: directory)
        } catch {
            return Self.reply(for: error)
        }
        switch query {
        case .sendAs(let login, let address):
            return Self.reply(directory.sendAs(login: login, address: address, at: now), buffer: &scratch.replyBuffer)
        case .sendOnBehalf(let login, let address):
            return Self.reply(directory.sendOnBehalf(login: login, address: address, at: now), buffer: &scratch.replyBuffer)
        case .access(let user, let mailbox):
            guard let access = directory.access(user: user, mailbox: mailbox, at: now) else {
                return Reply(status: .error(code: .notfound, text: "no such user or mailbox"))
            }
            return Reply(records: [Self.record(access)], status: .ok(text: nil))
        case .delegates(let mailbox):
            return Self.delegatesReply(
                directory: directory, generation: generation, limit: environment.maximumListing, scratch: &scratch, mailbox: { mailbox }
            ) { granters, body in
                directory.forEachDelegate(of: mailbox, at: now, granters: &granters, body)
            }
        case .mailboxes(let user):
            guard let mailboxes = directory.mailboxes(of: user, at: now) else {
                return Reply(status: .error(code: .notfound, text: "no user has the login \(user)"))
            }
            return listing(mailboxes.map(Self.record(_:)), noun: "mailboxes")
        case .senders(let address):
            return listing(directory.senders(of: address, at: now).map { Self.record($0.decision, login: $0.login) }, noun: "senders")
        case .holders(let address, let permission):
            let permissions = permission.map { [$0] } ?? Permission.allCases
            return listing(directory.holders(of: address, permissions: permissions, at: now).map { entry in
                Self.record(entry, leading: "login", entry.login.value)
            }, noun: "holders")
        case .rights(let user):
            guard let rights = directory.rights(of: user, at: now) else {
                return Reply(status: .error(code: .notfound, text: "no user has the login \(user)"))
            }
            return listing(rights.map { Self.record($0, leading: "mailbox", $0.mailbox.value) }, noun: "rights")
        case .privileges(let user):
            guard let summary = directory.privileges(of: user) else {
                return Reply(status: .error(code: .notfound, text: "no user has the login \(user)"))
            }
            return Reply(records: [Self.record(summary)], status: .ok(text: nil))
        case .members(let group, let expanded):
            guard let members = directory.members(of: group, expanded: expanded) else {
                return Reply(status: .error(code: .notfound, text: "no group has the address \(group)"))
            }
            return listing(members.map(Self.record(_:)), noun: "members")
        case .entry(let key):
            guard let entry = directory.entry(for: key) else {
                return Reply(status: .error(code: .notfound, text: "no entry has that address or name"))
            }
            return Reply(records: [Self.record(visible(entry, in: directory))], status: .ok(text: nil))
        case .search(let search):
            let limit = min(search.limit ?? environment.maximumListing, environment.maximumListing)
            guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
            let cursor = scratch.searchCursor(filter: search.text, principal: principal, generation: generation, revision: directory.revision, offset: search.offset)
            let result: SearchResult
            let entries: ArraySlice<Entry>
            if let cursor {
                // The page after the last one: the scan goes on where that one stopped.
                result = directory.search(search.filter, limit: limit, from: cursor, seenAs: visibility(in: directory))
                entries = result.entries[...]
            } else {
                // A page: the core finds limit + offset matches in its stable order, the
                // first offset are dropped; "truncated" still means more follow this page.
                result = directory.search(search.filter, limit: limit + search.offset, seenAs: visibility(in: directory))
                entries = result.entries.dropFirst(search.offset)
            }
            scratch.searchResumption = result.next.map {
                QueryScratch.SearchResumption(
                    filter: search.text, principal: principal, generation: generation, revision: directory.revision,
                    offset: search.offset + entries.count, cursor: $0, lastCursor: entries.isEmpty ? nil : result.last
                )
            }
            let records = entries.map(Self.record(_:))
            return Reply(records: records, status: .ok(text: "\(records.count) entries\(result.truncated ? ", truncated at the limit" : "")"))
        case .delegations(let offset):
            let order = scratch.delegationOrder(of: directory)
            let found = directory.delegations(from: offset, limit: environment.maximumListing, at: now, order: order)
            return Reply(records: found.page.map(Self.record(_:)), status: listingStatus(count: found.remaining, noun: "delegations"))
        case .spam:
            return Reply(records: [Self.record(directory.spamSettings)], status: .ok(text: nil))
        case .policies:
            let defaultName = directory.organization?.defaultPolicy
            return listing(directory.policyList.map { policy in
                var record = ReplyRecord()
                record.append(key: "policy", value: policy.name)
                record.append(key: "delegation", value: policy.mailboxDelegationAllowed ? "on" : "off")
                record.append(key: "default", value: policy.name == defaultName ? "yes" : "no")
                return record
            }, noun: "policies")
        case .organization:
            guard let organization = directory.organization, let entry = directory.entry(for: organization.distinguishedName) else {
                return Reply(status: .error(code: .notfound, text: "the organisation does not exist yet"))
            }
            return Reply(records: [Self.record(entry)], status: .ok(text: nil))
        }
    }

    /// A list reply, cut at the listing limit with a note saying so.
    func listing(_ records: [ReplyRecord], noun: String) -> Reply {
        let limit = environment.maximumListing
        return Reply(records: records.count > limit ? Array(records.prefix(limit)) : records, status: listingStatus(count: records.count, noun: noun))
    }

    /// The status of a list of `count` items, which says when the listing limit cut it.
    func listingStatus(count: Int, noun: String) -> ReplyStatus {
        Self.listingStatus(count: count, noun: noun, limit: environment.maximumListing)
    }

    static func listingStatus(count: Int, noun: String, limit: Int) -> ReplyStatus {
        // A mail server's `DELEGATES` names a few: its status text is not formatted anew.
        if noun == "delegates", count <= limit, count < Self.delegatesCounted.count { return .ok(text: Self.delegatesCounted[count]) }
        if count > limit { return .ok(text: "\(limit) of \(count) \(noun), truncated at the limit") }
        return .ok(text: "\(count) \(noun)")
    }

    /// `0 delegates` to `99 delegates`: each short enough to be held inline, with no
    /// storage to count references on.
    private static let delegatesCounted = (0..<100).map { "\($0) delegates" }

    /// The reply to a send check: one record, written straight into the reply's buffer.
    static func reply(_ decision: SendDecision, buffer: inout ByteBuffer?) -> Reply {
        // A record is under 100 bytes, unless an address is unusually long.
        var records = ReplyRecordsWriter(reusing: buffer.take(), capacity: 128, recordBound: 128)
        records.append { write(decision, into: &$0) }
        buffer = records.buffer
        return Reply(records: records, status: .ok(text: nil))
    }

    /// The entry as this session may see it: private attributes only for administrators,
    /// the Helpdesk role, and the entry's own user.
    func visible(_ entry: Entry, in directory: Directory) -> Entry {
        visibility(in: directory).apply(entry)
    }

    /// What this session's principal sees of an entry, decided once for many entries (a
    /// search matches its filter against every entry it scans).
    func visibility(in directory: Directory) -> EntryVisibility {
        guard case .user(let id) = principal, let user = directory.user(id: id) else { return .publicAttributes(ownEntry: nil) }
        if user.role.isAdministrator || user.customRoles.contains(.helpdesk) { return .everything }
        return .publicAttributes(ownEntry: id)
    }

    /// AUDIT: newest first, filtered, bounded.
    mutating func audit(_ query: Request.AuditQuery) -> Reply {
        guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        let view = currentView(of: principal)
        let directory = view.version.directory
        do {
            try view.authorization.get().authorize(.audit, in: directory)
        } catch {
            return Self.reply(for: error)
        }
        let limit = min(query.limit ?? 100, environment.maximumListing)
        let records = directory.auditLog.search(
            AuditFilter(since: query.since, until: query.until, actor: query.actor, target: query.target, afterSequence: query.after, beforeSequence: query.before),
            limit: limit
        )
        return Reply(records: records.map(Self.record(_:)), status: .ok(text: "\(records.count) records"))
    }
}

/// The version of the directory a session answers from, and its principal's query rights
/// in that version.
///
/// A value passed down to the query: the compiler then reads the directory in place. (As a
/// class, each query copied the directory out of it, a reference count on each of its
/// maps, which every thread's queries share.)
struct SessionView: Sendable {
    let principal: Principal
    /// The version, not counted by the view: ``Session/heldVersion`` holds it for as long as
    /// the session keeps this view, so that copying the view counts no reference on an
    /// object every thread shares.
    let unmanagedVersion: Unmanaged<DirectoryVersion>
    /// ``DeputyCore/LiveDirectory/generation`` when the view was made, at most the
    /// version's own.
    let generation: UInt64
    let authorization: Result<QueryAuthorization, DirectoryError>

    /// The version, counted: for the requests that keep it beyond the view.
    var version: DirectoryVersion { unmanagedVersion.takeUnretainedValue() }
}
