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
    /// When the session last proved its password (BIND counts, REAUTH and PASSWD's old= too).
    var reauthenticatedAt: Date?
    /// The version of the directory the last query was answered from.
    var view: SessionView?
    /// The subject common name of the client's TLS certificate, when it presented one that
    /// chains to a trusted client authority (`--client-ca`).
    public var certificateName: String?
    /// When the request in hand began, for the latency histogram.
    var requestStarted = ContinuousClock.now
    /// The metric series this session has used, so a request needs no shared lock.
    var requestSeries: [ServerMetrics.RequestKey: ServerMetrics.RequestSeries] = [:]

    /// A new, unauthenticated session with a client at `peer`.
    public init(environment: SessionEnvironment, peer: String, logger: Logger) {
        self.environment = environment
        self.peer = peer
        self.logger = logger
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
        /// BIND, REAUTH, SNAPSHOT and changes wait for password hashing or the journal:
        /// pass the request to ``handle(_:)``.
        case mustWait(Request)
    }

    /// Answers one line (without its terminator).
    public mutating func handle(line: ByteBuffer) async -> (Reply, Disposition) {
        switch answerWithoutWaiting(line: line) {
        case .answered(let reply, let disposition): return (reply, disposition)
        case .mustWait(let request): return await handle(request)
        }
    }

    /// Answers one line at once when nothing needs to be waited for: a query, PING, WHOAMI,
    /// HELP, AUDIT, QUIT or any refusal. The connection answers a pipelined batch this
    /// way and writes the replies together.
    public mutating func answerWithoutWaiting(line: ByteBuffer) -> ImmediateOutcome {
        requestStarted = .now
        let request: Request?
        do {
            // Parsed straight from the buffer: no copy of the line per request.
            request = try RequestParser(limits: environment.limits).parse(line)
        } catch {
            return refused(Reply(status: ReplyStatus(error)))
        }
        guard let request else { return refused(Reply(status: .error(code: .syntax, text: "empty request"))) }
        return answerWithoutWaiting(request)
    }

    /// Answers one request.
    public mutating func handle(_ request: Request) async -> (Reply, Disposition) {
        requestStarted = .now
        if case .answered(let reply, let disposition) = answerWithoutWaiting(request) { return (reply, disposition) }
        // A request that must wait: its syntax and the session's right to send it are checked.
        let entry: VerbSyntax.Entry
        switch VerbSyntax.check(request) {
        case .success(let found): entry = found
        // Answered above; kept for the type checker.
        case .failure(let error): return (Reply(status: ReplyStatus(error)), .keepOpen)
        }
        let operands = entry.operands(of: request)
        let reply: Reply
        switch (entry.verb, entry.subverb) {
        case ("BIND", _): reply = operands.count > 1 ? await bind(login: operands[0], password: operands[1]) : await bindByCertificate(login: operands[0])
        case ("REAUTH", _): reply = await reauthenticate(password: operands[0])
        case ("SNAPSHOT", _): reply = await snapshot()
        default: reply = await change(entry, operands, request)
        }
        logRequest(entry, reply)
        return (reply, .keepOpen)
    }

    private mutating func answerWithoutWaiting(_ request: Request) -> ImmediateOutcome {
        let entry: VerbSyntax.Entry
        switch VerbSyntax.check(request) {
        case .success(let found): entry = found
        case .failure(let error): return refused(Reply(status: ReplyStatus(error)))
        }
        guard isAuthenticated || entry.allowedBeforeAuthentication else {
            let reply = Reply(status: .error(code: .auth, text: "BIND first"))
            logRequest(entry, reply)
            return .answered(reply, .keepOpen)
        }
        let operands = entry.operands(of: request)
        let reply: Reply
        switch (entry.verb, entry.subverb) {
        case ("BIND", _), ("REAUTH", _), ("SNAPSHOT", _): return .mustWait(request)
        case ("WHOAMI", _): reply = whoami()
        case ("PING", _): reply = Reply(status: .ok(text: "pong"))
        case ("HELP", _): reply = help(topic: operands.first)
        case ("QUIT", _):
            let reply = Reply(status: .ok(text: "bye"))
            logRequest(entry, reply)
            return .answered(reply, .close)
        case ("QUERY", let subverb?): reply = query(subverb, operands, request)
        case ("AUDIT", _): reply = audit(request)
        default: return .mustWait(request)
        }
        logRequest(entry, reply)
        return .answered(reply, .keepOpen)
    }

    private mutating func logRequest(_ entry: VerbSyntax.Entry, _ reply: Reply) {
        let result = reply.status.isOK ? "ok" : reply.status.code
        logger.debug("request", metadata: ["cmd.verb": "\(entry.name)", "cmd.result": "\(result)"])
        count(ServerMetrics.RequestKey(verb: entry.name, result: result))
    }

    private mutating func count(_ key: ServerMetrics.RequestKey) {
        let series: ServerMetrics.RequestSeries
        if let known = requestSeries[key] {
            series = known
        } else {
            series = ServerMetrics.requestSeries(key)
            requestSeries[key] = series
        }
        series.record(nanoseconds: Self.nanoseconds(since: requestStarted))
    }

    /// A request that is not one of the table's: counted under the verb `invalid`, since
    /// a client's own words as a label would let it make series without end.
    private mutating func refused(_ reply: Reply) -> ImmediateOutcome {
        count(ServerMetrics.RequestKey(verb: "invalid", result: reply.status.code))
        return .answered(reply, .keepOpen)
    }

    static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// A context for a command by this session's principal now.
    func context(reauthenticatedAt override: Date? = nil) -> CommandContext {
        CommandContext(actor: principal ?? .system, time: environment.clock(), reauthenticatedAt: override ?? reauthenticatedAt)
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
