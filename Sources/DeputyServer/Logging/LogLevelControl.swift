import Logging
import Synchronization

/// The daemon's log level, shared by every logger and changed by a reload (SIGHUP).
///
/// Every log call reads it first, on every event-loop thread, even when the call logs
/// nothing (each request's `debug` line). So it is one atomic byte read without a lock: a
/// lock here made every thread queue behind every other, and on twelve cores the daemon
/// answered thirty times fewer requests.
public final class LogLevelControl: Sendable {
    private static let levels = Logger.Level.allCases
    private let level: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        self.level = Atomic(Self.index(of: level))
    }

    public var current: Logger.Level {
        get { Self.levels[Int(level.load(ordering: .relaxed))] }
        set { level.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(levels.firstIndex(of: level) ?? 0)
    }
}

/// Passes records to `wrapped` at or above the shared level of a ``LogLevelControl``.
public struct LevelControlledLogHandler: LogHandler {
    private var wrapped: any LogHandler
    private let control: LogLevelControl

    /// The shared level's holder.
    var levelControl: LogLevelControl { control }

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
