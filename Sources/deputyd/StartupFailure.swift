import DeputyServer
import DeputyStore
import Logging

/// Why `deputyd` could not start, or a tool (`init`, `backup`, `restore`) could not do its
/// work, in a sentence for the person running it. The system's or library's own account
/// goes to the debug log (`serve --log-level debug`); a tool ends with exit status 1.
struct StartupFailure: Error, CustomStringConvertible {
    let description: String
    let detail: String?

    init(_ error: any Error) {
        switch error {
        case let error as StoreError:
            description = error.message
            detail = error.path.map { "\(error.code) \($0)" }
        case let error as ListenError:
            description = error.description
            detail = error.detail
        case let error as CertificateError:
            description = error.description
            detail = error.detail
        case let error as StartupFailure:
            self = error
        default:
            description = String(describing: error)
            detail = nil
        }
    }

    /// A failure found by `deputyd` itself.
    init(message: String) {
        description = message
        detail = nil
    }

    /// Logs the detail at debug level, then the sentence.
    func log(to logger: Logger) {
        if let detail { logger.debug("the failure in detail", metadata: ["error.detail": "\(detail)"]) }
        logger.critical("\(description)")
    }
}
