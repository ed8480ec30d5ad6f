import NIOCore
import DeputyCore
import DeputyProtocol
import Foundation
import Logging

/// One client's conversation with the directory: who it is, and the answer to each request.
///
/// A session holds no I/O: the connection feeds it requests and writes its replies, so the
/// whole protocol can be driven in tests without a socket.
public struct Session: Sendable {
    /// What the connection must do after writing a reply.
    public enum Disposition: Sendable {
        case keepOpen
        case close
    }

    let environment: SessionEnvironment
    /// The client's address, for throttling and logs.
    let peer: String
    var logger: Logger
    /// Who the session is bound as, once BIND succeeded.
    var principal: Principal?
    /// The login of the bound principal.
    var login: String?
    /// When the session last proved its password (BIND counts, REAUTH and PASSWD's old= too;
    /// BIND not for an account with a second factor).
    var reauthenticatedAt: Date?
    /// When the session last proved its second factor (REAUTH with a code).
    var factorVerifiedAt: Date?
    /// The version of the directory the last query was answered from.
    var view: SessionView?
    /// The version ``view`` answers from, held here (the view does not count it).
    var heldVersion: DirectoryVersion?
    /// The subject common name of the client's TLS certificate, when it presented one that
    /// chains to a trusted client authority (`--client-ca`).
    public var certificateName: String?
    /// When the request in hand began, for the latency histogram: the monotonic clock in
    /// nanoseconds, which costs one clock read and no arithmetic on `Duration`'s 128 bits.
    var requestStarted = NIODeadline.now().uptimeNanoseconds
    /// Where this session counts its requests: its thread's shard of the statistics.
    var requestCounter = RequestCounter()
    /// The directory's version queries answer from, kept while no other is published.
    var reader: DirectoryReader
    /// The addresses of the queries in the read being answered (``prefetchQueries(_:)``).
    var lookahead = AddressLookahead()
    /// This connection's own copies of the verb table's entries it used lately.
    var recentEntries = VerbSyntax.RecentEntries()
    /// What one query leaves for the next (``QueryScratch``).
    var queryScratch = QueryScratch()
    /// Set when the connection closes; the session's copies that answer its waiting
    /// requests share it.
    let connectionClosed = ConnectionClosed()
    /// When the queries of one read are answered as of: the clock read by the first of them,
    /// with the read's start (``requestStarted``), so that the next read's first query reads
    /// it again. Pipelined lookups arrive a dozen to a read.
    var queryTime: (requestStarted: UInt64, now: Date)?

    /// The daemon's log level, when the logger's handler follows one: read directly, without
    /// a copy of the handler (which counts a reference on the shared level object), to tell
    /// whether each request's debug line is wanted. The logger holds the object alive.
    private let levelControl: Unmanaged<LogLevelControl>?

    /// A new, unauthenticated session with a client at `peer`.
    public init(environment: SessionEnvironment, peer: String, logger: Logger) {
        self.environment = environment
        self.peer = peer
        self.logger = logger
        self.levelControl = (logger.handler as? LevelControlledLogHandler).map { .passUnretained($0.levelControl) }
        self.reader = DirectoryReader(environment.committer.live)
    }

    /// Whether the session is bound.
    public var isAuthenticated: Bool { principal != nil }

    /// The greeting sent when the connection opens.
    public var greeting: ReplyStatus {
        .ok(text: "deputyd \(environment.version) ready")
    }

    /// The outcome of a request answered without waiting, or the request that must wait.
    public enum ImmediateOutcome: Sendable {
        case answered(Reply, Disposition)
        /// BIND, REAUTH, SNAPSHOT and changes wait for password hashing or the journal, and
        /// listings for their thread: pass the request to ``handle(_:)``.
        case mustWait(Request)
    }

    /// Answers one line (without its terminator).
    public mutating func handle(line: ByteBuffer) async -> (Reply, Disposition) {
        switch answerWithoutWaiting(line: line) {
        case .answered(let reply, let disposition):
            countAnswered()
            return (reply, disposition)
        case .mustWait(let request):
            return await handle(request)
        }
    }

    /// Answers one line at once when nothing needs to be waited for: a query, PING, WHOAMI,
    /// HELP, QUIT or any refusal; listings (AUDIT, SEARCH, DELEGATIONS) wait for their
    /// thread. The connection answers a pipelined batch this way and writes the replies
    /// together.
    ///
    /// `receivedAt` (the monotonic clock in nanoseconds) is when the line's read began, which
    /// the latency histogram counts from: the connection reads the clock once for the lines
    /// of one read, whose replies leave together.
    public mutating func answerWithoutWaiting(line: ByteBuffer, receivedAt: UInt64 = NIODeadline.now().uptimeNanoseconds) -> ImmediateOutcome {
        requestStarted = receivedAt
        // The lookups mail servers send by the thousand, parsed straight into their request;
        // every other line through the general parser and the verb table.
        if let lookup = LookupQueryParser.lookup(in: line) {
            // SENDAS and SENDONBEHALF from the line's bytes; otherwise as a request.
            guard let reply = query(lookup) else { return answerWithoutWaiting(lookup.request) }
            logRequest(lookup.name, reply)
            return .answered(reply, .keepOpen)
        }
        let parsed: RequestLine?
        do {
            // Parsed straight from the buffer: no copy of the line per request.
            parsed = try RequestParser(limits: environment.limits).parse(line)
        } catch {
            return refused(Reply(status: ReplyStatus(error)))
        }
        guard let parsed else { return refused(Reply(status: .error(code: .syntax, text: "empty request"))) }
        // The shape first, then who may send it, then its values: a client that has not
        // bound learns nothing but "BIND first" about a well-formed request.
        let entry: VerbSyntax.Entry
        switch VerbSyntax.check(parsed, recent: &recentEntries) {
        case .success(let found): entry = found
        case .failure(let error): return refused(Reply(status: ReplyStatus(error)))
        }
        guard isAuthenticated || entry.allowedBeforeAuthentication else {
            let reply = Reply(status: .error(code: .auth, text: "BIND first"))
            logRequest(entry.name, reply)
            return .answered(reply, .keepOpen)
        }
        let request: Request
        do {
            request = try entry.decode(parsed)
        } catch {
            let reply = Reply(status: .error(code: error.code, text: error.message))
            logRequest(entry.name, reply)
            return .answered(reply, .keepOpen)
        }
        return answerWithoutWaiting(request)
    }

    /// Answers a request that needs no waiting, or says that it must wait.
    mutating func answerWithoutWaiting(_ request: Request) -> ImmediateOutcome {
        let reply: Reply
        switch request {
        case .bind, .reauth, .snapshot, .add, .delete, .modify, .passwd, .grant, .revoke, .delegate, .undelegate,
             .mfa(.enroll), .mfa(.confirm), .mfa(.remove):
            return .mustWait(request)
        case .query(.search), .query(.delegations), .audit:
            // Listings may scan the whole directory: answered on the listings' thread, off
            // the event loop (``SessionEnvironment/listings``).
            return .mustWait(request)
        case .mfa(.status(let login)): reply = secondFactorStatus(login: login)
        case .whoami: reply = whoami()
        case .ping: reply = Reply(status: .ok(text: "pong"))
        case .help(let topic): reply = help(topic: topic)
        case .quit:
            let reply = Reply(status: .ok(text: "bye"))
            logRequest(request.name, reply)
            return .answered(reply, .close)
        case .query(let query): reply = self.query(query)
        case .atRevision(let revision, let inner):
            // Answered at once when this server has the revision; else it waits for it.
            guard environment.committer.live.directory.revision >= revision else { return .mustWait(request) }
            return answerWithoutWaiting(inner)
        }
        logRequest(request.name, reply)
        return .answered(reply, .keepOpen)
    }

    /// What a request that waited changed in its session: who it is bound as, and when it
    /// last proved its password. The request runs on a copy of the session, away from the
    /// connection's event loop, and hands back only this.
    public struct Update: Sendable {
        let principal: Principal?
        let login: String?
        let reauthenticatedAt: Date?
        let factorVerifiedAt: Date?
        /// Where a search that waited for the listings' thread stopped, and the order of
        /// delegations a `DELEGATIONS` page read.
        let searchResumption: QueryScratch.SearchResumption?
        let delegationOrder: QueryScratch.DelegationOrder?
    }

    /// The outcome of a request that waited.
    public struct WaitResult: Sendable {
        public let reply: Reply
        public let disposition: Disposition
        public let update: Update
    }

    /// Runs a request that must wait on a copy of this session, and returns its reply with
    /// what it changed; ``finish(_:_:)`` applies that to the session on the connection.
    public func wait(for request: Request) async -> WaitResult {
        var copy = self
        let (reply, disposition) = await copy.answer(request)
        return WaitResult(reply: reply, disposition: disposition, update: Update(
            principal: copy.principal, login: copy.login, reauthenticatedAt: copy.reauthenticatedAt, factorVerifiedAt: copy.factorVerifiedAt,
            searchResumption: copy.queryScratch.searchResumption, delegationOrder: copy.queryScratch.delegationOrder
        ))
    }

    /// Takes in what a request that waited changed, and counts it.
    public mutating func finish(_ request: Request, _ result: WaitResult) {
        principal = result.update.principal
        login = result.update.login
        reauthenticatedAt = result.update.reauthenticatedAt
        factorVerifiedAt = result.update.factorVerifiedAt
        queryScratch.searchResumption = result.update.searchResumption
        queryScratch.delegationOrder = result.update.delegationOrder
        if let login { logger[metadataKey: "auth.login"] = "\(login)" }
        logRequest(request.name, result.reply)
    }

    /// Answers one request, waiting where it must: the whole round, for tests and tools that
    /// drive a session without a connection.
    public mutating func handle(_ request: Request) async -> (Reply, Disposition) {
        requestStarted = NIODeadline.now().uptimeNanoseconds
        defer { countAnswered() }
        switch answerWithoutWaiting(request) {
        case .answered(let reply, let disposition):
            return (reply, disposition)
        case .mustWait(let request):
            let result = await wait(for: request)
            finish(request, result)
            return (result.reply, result.disposition)
        }
    }

    /// Answers a request that must wait, changing this session where it binds or
    /// re-authenticates. Runs on a copy (``wait(for:)``).
    private mutating func answer(_ request: Request) async -> (Reply, Disposition) {
        requestStarted = NIODeadline.now().uptimeNanoseconds
        let reply: Reply
        switch request {
        case .query(.search(let search)): reply = await listing { $0.query(.search(search)) }
        case .query(.delegations(let offset)): reply = await listing { $0.query(.delegations(offset: offset)) }
        case .audit(let query): reply = await listing { $0.audit(query) }
        case .whoami, .ping, .help, .quit, .query, .mfa(.status):
            return (Reply(status: .error(code: .internal, text: "\(request.name) needs no waiting")), .keepOpen)
        case .bind(let login, let password?): reply = await bind(login: login, password: password)
        case .bind(let login, nil): reply = await bindByCertificate(login: login)
        case .reauth(let password, let code): reply = await reauthenticate(password: password, code: code)
        case .mfa(let mfa): reply = await secondFactor(mfa)
        case .snapshot: reply = await snapshot()
        case .add, .delete, .modify, .passwd, .grant, .revoke, .delegate, .undelegate: reply = await change(request)
        case .atRevision(let revision, let inner):
            let live = environment.committer.live
            guard await live.waitUntil(revision: revision, timeout: Self.revisionWait) else {
                reply = Reply(status: .error(
                    code: .unavailable, text: "revision \(revision) was not reached within \(Self.revisionWait.components.seconds) seconds; this server is at \(live.directory.revision)"
                ))
                break
            }
            switch answerWithoutWaiting(inner) {
            case .answered(let answered, let disposition): return (answered, disposition)
            case .mustWait(let waiting): return await answer(waiting)
            }
        }
        return (reply, .keepOpen)
    }

    /// Answers a listing on the listings' thread (``SessionEnvironment/listings``), on a copy
    /// of this session, and keeps what it left for the next page (where its search stopped,
    /// the order of delegations it read).
    ///
    /// A listing whose connection closed while it waited is not answered: nobody would read
    /// it. One beyond ``ListingThread/defaultLimit`` waiting, or beyond
    /// ``ListingThread/defaultOwnerLimit`` of this principal's, is refused at once.
    private mutating func listing(_ answer: @escaping @Sendable (inout Session) -> Reply) async -> Reply {
        let session = self
        let closed = connectionClosed
        let outcome = await environment.listings.run(for: principal ?? .system) {
            () -> (Reply, QueryScratch.SearchResumption?, QueryScratch.DelegationOrder?)? in
            guard !closed.isSet else { return nil }
            var copy = session
            let reply = answer(&copy)
            return (reply, copy.queryScratch.searchResumption, copy.queryScratch.delegationOrder)
        }
        let answered: (Reply, QueryScratch.SearchResumption?, QueryScratch.DelegationOrder?)?
        switch outcome {
        case .success(let result):
            answered = result
        case .failure(.full):
            return Reply(status: .error(code: .unavailable, text: "too many listings are waiting on this server; try again shortly"))
        case .failure(.ownerFull):
            return Reply(status: .error(
                code: .unavailable, text: "\(environment.listings.ownerLimit) of your listings are waiting already; send the next when one is answered"
            ))
        }
        guard let (reply, resumption, order) = answered else {
            return Reply(status: .error(code: .unavailable, text: "the connection closed before the listing was answered"))
        }
        queryScratch.searchResumption = resumption
        queryScratch.delegationOrder = order
        return reply
    }

    /// How long a query with `revision=` waits for this server to reach it.
    static let revisionWait = Duration.seconds(5)

    mutating func logRequest(_ name: String, _ reply: Reply) {
        let result = reply.status.isOK ? "ok" : reply.status.code
        if levelControl?._withUnsafeGuaranteedRef({ $0.current <= .debug }) ?? true {
            logger.debug("request", metadata: ["cmd.verb": "\(name)", "cmd.result": "\(result)"])
        }
        requestCounter.answered(verb: name, result: result, startedAt: requestStarted)
    }

    /// A request that is not one of the table's: counted under the verb `invalid`, since
    /// a client's own words as a label would let it make series without end.
    private mutating func refused(_ reply: Reply) -> ImmediateOutcome {
        requestCounter.answered(verb: "invalid", result: reply.status.code, startedAt: requestStarted)
        return .answered(reply, .keepOpen)
    }

    /// Counts the requests answered since the last call, as ended now: call it as their
    /// replies leave. It reads the clock only when there are some.
    public mutating func countAnswered() {
        guard requestCounter.hasWaiting else { return }
        requestCounter.count(endingAt: NIODeadline.now().uptimeNanoseconds)
    }

    /// A context for a command by this session's principal now.
    func context(reauthenticatedAt override: Date? = nil) -> CommandContext {
        CommandContext(
            actor: principal ?? .system, time: environment.clock(), reauthenticatedAt: override ?? reauthenticatedAt,
            factorVerifiedAt: factorVerifiedAt
        )
    }
}

extension ReplyStatus {
    /// The error code, or `ok`.
    var code: String {
        switch self {
        case .ok: "ok"
        case .error(let code, _): code.rawValue
        }
    }
}
