import ArgumentParser
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

/// The exit codes of `deputy`, documented in `deputy --help` and the README.
enum ExitStatus: Int32 {
    /// Success; for yes/no queries, yes.
    case success = 0
    /// A yes/no query answered no (for example `deputy query sendas`).
    case no = 1
    /// The server refused the request (`ERR ...`), or an input file had rejected rows.
    case refused = 2
    /// No answer: the connection, TLS, trust or login failed.
    case unreachable = 3
    /// The command line was wrong (swift-argument-parser's usage error).
    case usage = 64
}
