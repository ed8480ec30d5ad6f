import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation

/// How `deputy` prints replies.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Aligned columns with a header, for people at a terminal.
    case table
    /// One JSON object per reply, for programs.
    case json
    /// One line per record of `key=value` fields as the server sent them, for pipes and grep.
    case plain

    /// The format to use when none is asked for: a table on a terminal, plain lines otherwise.
    static func automatic(isTerminal: Bool = isatty(STDOUT_FILENO) == 1) -> OutputFormat {
        isTerminal ? .table : .plain
    }
}

/// The exit codes of `deputy`, documented in `deputy --help` and the README: one for each
/// kind of failure a script may want to tell apart.
enum ExitStatus: Int32 {
    /// Success; for yes/no queries, yes.
    case success = 0
    /// A yes/no query answered no (for example `deputy query sendas`).
    case no = 1
    /// The server refused the request (`ERR ...`, other than `notfound`), or an input file
    /// had rejected rows.
    case refused = 2
    /// No connection: it could not be made, or it broke or timed out.
    case unreachable = 3
    /// The server's certificate is not trusted (CA file, pin or known hosts), or a trust
    /// file can't be used.
    case untrusted = 4
    /// Not found: the server has no such entry (`ERR notfound`), or a file named on the
    /// command line or in the profile does not exist.
    case notFound = 5
    /// The server refused the login: a wrong password, or a blocked or locked account.
    case loginRefused = 6
    /// The command line was wrong: an unknown subcommand or option, a malformed value.
    case usage = 64
    /// A file on this machine can't be used as it is: a profile or password file (not valid,
    /// an unknown key, open to others, empty), an input file that is not what it should be
    /// (a CSV import, an export), or a file that can't be written.
    case configuration = 78

    /// The status a reply means: success for `OK`, not found for `ERR notfound`, else refused.
    init(_ status: ReplyStatus) {
        switch status {
        case .ok: self = .success
        case .error(let code, _): self = code == .notfound ? .notFound : .refused
        }
    }

    /// The status a failure of the client library means.
    init(_ error: DeputyClientError) {
        switch error.code {
        case .certificateNotTrusted, .fingerprintMismatch, .hostRejected, .invalidTrustConfiguration, .knownHostsWriteFailed:
            self = .untrusted
        case .invalidEndpoint, .insecureEndpoint, .invalidRequest:
            self = .usage
        default:
            self = .unreachable
        }
    }
}
