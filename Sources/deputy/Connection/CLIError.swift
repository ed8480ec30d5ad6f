import ArgumentParser
import DeputyClient

/// A failure that ends `deputy` with a message and an exit status.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String
    /// The library's or system's own account, shown only with `--verbose`.
    let detail: String?

    init(_ status: ExitStatus, _ description: String, detail: String? = nil) {
        self.status = status
        self.description = description
        self.detail = detail
    }

    /// A failure of the client library, with the status its kind means.
    init(_ error: DeputyClientError) {
        self.init(ExitStatus(error), error.message, detail: error.detail)
    }

    /// Reports `error` as `deputy` ends with it, and returns the exit code to end with: a
    /// ``CLIError`` with its status, a client library failure with the status its kind
    /// means; an `ExitCode` passes through.
    static func exit(_ error: any Error, verbose: Bool) -> any Error {
        let failure: CLIError
        switch error {
        case let exit as ExitCode: return exit
        case let error as CLIError: failure = error
        case let error as DeputyClientError: failure = CLIError(error)
        default: failure = CLIError(.unreachable, "\(error)")
        }
        failure.report(verbose: verbose)
        return ExitCode(failure.status.rawValue)
    }

    /// Prints the message to standard error, and the detail too when `verbose`.
    func report(verbose: Bool) {
        ReplyPrinter.message("deputy: \(description)")
        if verbose, let detail { ReplyPrinter.message("deputy: detail: \(detail)") }
    }
}
