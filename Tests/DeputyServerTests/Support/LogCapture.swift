import Logging
import Synchronization

/// Keeps every line logged through ``logger``, with its level and metadata, for tests that
/// check what the daemon says.
final class LogCapture: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    private let kept = Mutex<[Line]>([])

    /// The lines logged so far, in order.
    var lines: [Line] { kept.withLock { $0 } }

    /// A logger at `trace` whose lines are kept here.
    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let line = Line(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })
            capture.kept.withLock { $0.append(line) }
        }
    }
}
