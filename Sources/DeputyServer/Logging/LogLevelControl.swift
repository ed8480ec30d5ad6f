import Logging
import Synchronization

/// The daemon's log level, shared by every logger and changed by a reload (SIGHUP).
public final class LogLevelControl: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level) {
        self.level = Mutex(level)
    }

    public var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// Passes records to `wrapped` at or above the shared level of a ``LogLevelControl``.
public struct LevelControlledLogHandler: LogHandler {
    private var wrapped: any LogHandler
    private let control: LogLevelControl

    public init(_ wrapped: any LogHandler, control: LogLevelControl) {
        self.wrapped = wrapped
        self.control = control
    }

    /// The shared level; setting it sets it for every logger of the daemon.
    public var logLevel: Logger.Level {
        get { control.current }
        set { control.current = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        wrapped.log(event: event)
    }
}
