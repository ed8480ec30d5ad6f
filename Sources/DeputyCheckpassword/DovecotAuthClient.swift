#if canImport(Glibc)
import Glibc
#endif

/// The client side of Dovecot's auth protocol, as Postfix speaks it, against deputyd's
/// `--dovecot-auth` listener: one `AUTH PLAIN` per connection, with the client's address
/// (`rip=`) so that Deputy's throttle and audit see where the login came from.
///
/// Blocking, with one deadline for the whole exchange: a checkpassword program lives for
/// one login.
public struct DovecotAuthClient: Sendable {
    /// Where deputyd's auth listener is.
    public enum Endpoint: Equatable, Sendable {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// `HOST:PORT` (an IPv4 or IPv6 address; `[::1]:PORT` too) or an absolute path.
        public init?(_ text: String) {
            if text.hasPrefix("/") {
                self = .unix(path: text)
                return
            }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { return nil }
            self = .tcp(host: host, port: port)
        }
    }

    public let endpoint: Endpoint
    /// Seconds the whole exchange may take.
    public let timeout: Double

    public init(endpoint: Endpoint, timeout: Double = 10) {
        self.endpoint = endpoint
        self.timeout = timeout
    }

    /// Asks deputyd whether `request`'s password is right.
    public func check(_ request: CheckpasswordRequest) -> CheckpasswordOutcome {
        guard let password = request.password else {
            return .temporaryFailure("deputy-checkpassword checks passwords only; give the static userdb allow_all_users=yes so Dovecot does not ask it whether a user exists")
        }
        let deadline = Self.now() + timeout
        let connection: Connection
        switch Connection.open(endpoint, deadline: deadline) {
        case .success(let opened): connection = opened
        case .failure(let failure): return .temporaryFailure(failure.reason)
        }
        defer { connection.close() }
        // The server speaks first: VERSION, MECH..., SPID, CUID, COOKIE, DONE.
        var sawPlain = false
        while true {
            guard let line = connection.readLine(deadline: deadline) else { return .temporaryFailure("deputyd closed the connection during the handshake") }
            if line.hasPrefix("VERSION\t"), !line.hasPrefix("VERSION\t1\t") { return .temporaryFailure("deputyd speaks another auth protocol version: \(line)") }
            if line.hasPrefix("MECH\tPLAIN") { sawPlain = true }
            if line == "DONE" { break }
        }
        guard sawPlain else { return .temporaryFailure("deputyd does not offer PLAIN") }
        var parameters = ["service=\(Self.escape(request.service))"]
        if let remote = request.remoteAddress { parameters.append("rip=\(Self.escape(remote))") }
        if let local = request.localAddress { parameters.append("lip=\(Self.escape(local))") }
        let response = Base64.encode([0] + Array(request.login.utf8) + [0] + Array(password.utf8))
        let lines = "VERSION\t1\t2\nCPID\t\(getpid())\nAUTH\t1\tPLAIN\t\(parameters.joined(separator: "\t"))\tresp=\(response)\n"
        guard connection.write(lines, deadline: deadline) else { return .temporaryFailure("deputyd closed the connection before the request") }
        guard let reply = connection.readLine(deadline: deadline) else { return .temporaryFailure("deputyd did not answer in time") }
        let fields = reply.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 2, fields[1] == "1" else { return .temporaryFailure("unexpected reply from deputyd: \(reply)") }
        switch fields[0] {
        case "OK":
            guard let user = fields.dropFirst(2).first(where: { $0.hasPrefix("user=") }) else { return .temporaryFailure("deputyd's OK names no user") }
            return .accepted(login: Self.unescape(String(user.dropFirst(5))))
        case "FAIL":
            if fields.dropFirst(2).contains("temp") {
                let reason = fields.first { $0.hasPrefix("reason=") }.map { Self.unescape(String($0.dropFirst(7))) } ?? "deputyd can't check passwords now"
                return .temporaryFailure(reason)
            }
            return .refused
        default:
            return .temporaryFailure("unexpected reply from deputyd: \(reply)")
        }
    }

    /// Dovecot's escaping of a parameter value: `\001` before `1`, `t`, `r`, `n` for itself,
    /// a tab, a carriage return and a newline.
    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\u{1}": out += "\u{1}1"
            case "\t": out += "\u{1}t"
            case "\r": out += "\u{1}r"
            case "\n": out += "\u{1}n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func unescape(_ value: String) -> String {
        var out = ""
        var escaped = false
        for scalar in value.unicodeScalars {
            if escaped {
                switch scalar {
                case "t": out += "\t"
                case "r": out += "\r"
                case "n": out += "\n"
                case "1": out += "\u{1}"
                default: out.unicodeScalars.append(scalar)
                }
                escaped = false
            } else if scalar == "\u{1}" {
                escaped = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
