import ArgumentParser
import DeputyProtocol
import Foundation


/// The formats of `deputy export`.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    /// Everything: organisation, entries, delegations, policies, spam settings.
    case json
    /// The entries only, for LDAP servers.
    case ldif
}

/// `deputy export [--format json|ldif] [--to FILE]`: the whole directory, read over the
/// protocol as an administrator.
struct ExportCommand: DeputyCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the directory as JSON or LDIF (administrators).",
        discussion: """
            Reads the organisation, every entry (the organisation, users, groups and service accounts, \
            private attributes included), every delegation, the email policies and the spam settings, \
            paging through listings longer than the server's limit.
            JSON (the default) holds all of it, pretty-printed with sorted keys so that two exports diff well.
            LDIF (RFC 2849) holds the entries only: delegations, policies and spam settings are in the JSON \
            format only. Only the directory's entries are written: the containers above them (ou=users, \
            ou=groups, ou=services, and the suffixes of further mail domains) are not entries of it.
            Passwords and password hashes are never exported.
            With --to the file gets mode 600, written beside it under a temporary name and renamed into place \
            once complete. With --from an earlier JSON export is read instead of the server (to turn it into LDIF).
            Changes made while the export runs may or may not be in it; when a listing shifts between two pages \
            it is read again, so that every entry there throughout the export is in it exactly once.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "json (everything) or ldif (the entries only).") var format: ExportFormat = .json
    @Option(name: .customLong("to"), help: ArgumentHelp("Write to this file (mode 600, replaced atomically) instead of standard output.", valueName: "file"))
    var file: String?
    @Option(name: .customLong("from"), help: ArgumentHelp("Convert this earlier JSON export instead of asking the server.", valueName: "file"))
    var source: String?

    /// The most records asked for in one page.
    static let pageLimit = 1_000
    /// How many times a listing that shifted between pages is read again.
    static let attempts = 3

    func run() async throws {
        do {
            if let source {
                try emit(try ExportDocument.load(source))
                return
            }
            let session = try await DeputySession.open(connection)
            do {
                try emit(try await Self.read(session))
            } catch {
                await session.close()
                throw error
            }
            await session.close()
        } catch {
            throw CLIError.exit(error, verbose: connection.verbose)
        }
    }

    /// From `deputy shell`, on its session.
    func perform(_ session: DeputySession) async throws -> ExitStatus {
        if let source {
            try emit(try ExportDocument.load(source))
        } else {
            try emit(try await Self.read(session))
        }
        return .success
    }

    // MARK: - Reading

    /// Everything the export holds, read as the bound administrator.
    static func read(_ session: DeputySession) async throws -> ExportDocument {
        try await requireAdministrator(session)
        let organizationReply = try await query(session, .organization)
        guard let organization = organizationReply.records.first else {
            throw CLIError(.refused, "the server sent no organisation entry")
        }
        var entries = try await pages(session, identity: "dn") { offset in .search(try ArgumentValues.search("(objectclass=*)", limit: pageLimit, offset: offset)) }
        // The organisation first, so that an LDAP server loads it before the entries under it.
        if let index = entries.firstIndex(where: { $0["dn"] == organization["dn"] }) {
            entries.insert(entries.remove(at: index), at: 0)
        }
        let delegations = try await pages(session, identity: "id") { offset in .delegations(offset: offset) }
        let policies = try await query(session, .policies)
        if isTruncated(policies) {
            throw CLIError(.refused, "the server cut the list of policies at its limit, and it can't be paged")
        }
        guard let spam = try await query(session, .spam).records.first else {
            throw CLIError(.refused, "the server sent no spam settings")
        }
        return ExportDocument(
            organization: ExportDocument.record(organization),
            entries: entries.map { ExportDocument.record($0) },
            delegations: delegations.map { ExportDocument.record($0, lists: ExportDocument.delegationLists) },
            policies: policies.records.map { ExportDocument.record($0) },
            spam: ExportDocument.record(spam, lists: ExportDocument.spamLists)
        )
    }

    /// Refuses, before reading anything, a login that is not an administrator: others would
    /// get an export without private attributes or delegations.
    static func requireAdministrator(_ session: DeputySession) async throws {
        let whoami = try await session.send(.whoami)
        guard whoami.status.isOK, let record = whoami.records.first else {
            throw CLIError(.refused, "WHOAMI: \(whoami.status.text)")
        }
        let login = record["login"] ?? "this login"
        guard record["kind"] == "user", let role = record["role"], role == "admin" || role == "superadmin" else {
            let what = record["kind"] == "service" ? "is a service account" : "has the role \(record["role"] ?? "unknown")"
            throw CLIError(.refused, "export reads the whole directory and needs an administrator; \(login) \(what)")
        }
    }

    /// One QUERY; a refusal ends the export with exit status 2.
    static func query(_ session: DeputySession, _ query: Request.Query) async throws -> Reply {
        let request = Request.query(query)
        let reply = try await session.send(request)
        guard reply.status.isOK else { throw CLIError(.refused, "\(request.name): \(reply.status.text)") }
        return reply
    }

    static func isTruncated(_ reply: Reply) -> Bool {
        if case .ok(let text?) = reply.status { return text.hasSuffix("truncated at the limit") }
        return false
    }

    /// Every record of a listing the server cuts at its limit, page by page with `offset=`.
    ///
    /// Each page after the first starts one record early, at the last record already read:
    /// when that record is not where it was (`identity` differs), an entry was added or
    /// removed before it between the two pages, and the listing is read again from the start.
    static func pages(_ session: DeputySession, identity: String, page: (Int) throws -> Request.Query) async throws -> [ReplyRecord] {
        for _ in 1...attempts {
            if let records = try await pagesOnce(session, identity: identity, page: page) { return records }
        }
        throw CLIError(.refused, "\(Request.query(try page(0)).name): the directory kept changing between pages; try again")
    }

    /// One pass over the listing; `nil` when it shifted between two pages.
    private static func pagesOnce(_ session: DeputySession, identity: String, page pageQuery: (Int) throws -> Request.Query) async throws -> [ReplyRecord]? {
        var records: [ReplyRecord] = []
        // Overlapping pages need room for a new record beside the repeated one.
        var overlap = false
        while true {
            let offset = overlap ? records.count - 1 : records.count
            let reply = try await query(session, try pageQuery(offset))
            var page = reply.records[...]
            if overlap {
                guard let first = page.popFirst(), let key = first[identity], key == records.last?[identity] else { return nil }
            }
            records += page
            guard isTruncated(reply) else { return records }
            if offset == 0 { overlap = reply.records.count >= 2 }
            guard !page.isEmpty else {
                throw CLIError(.refused, "\(Request.query(try pageQuery(offset)).name): the server cut a page at its limit without a record in it")
            }
        }
    }

    // MARK: - Writing

    /// The document in the chosen format, to standard output or the file.
    func emit(_ document: ExportDocument) throws {
        let data: Data
        switch format {
        case .json:
            do {
                data = try document.json()
            } catch {
                throw CLIError(.configuration, "can't write the export as JSON: \(error)")
            }
        case .ldif:
            data = Data(try document.ldif().utf8)
        }
        if let file {
            try LocalFile.writeAtomically(data, to: file)
        } else {
            StandardOutput.write(data)
        }
        func counted(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
        let entries = counted(document.entries.count, "entry", "entries")
        let summary = format == .json
            ? "\(entries), \(counted(document.delegations.count, "delegation", "delegations")), \(counted(document.policies.count, "policy", "policies"))"
            : entries
        ReplyPrinter.message("exported \(summary)\(file.map { " to \($0)" } ?? "")")
    }
}
