import Foundation
import Logging
import Synchronization

/// Writes each record as one JSON object on one line, for log shippers:
/// `{"time":"2026-11-23T10:00:00.123Z","level":"notice","label":"deputyd","message":"listening","listen.address":"..."}`.
/// Metadata keys sit beside the fixed ones (`time`, `level`, `label`, `message`, `source`);
/// JSON escaping keeps any value a client sent inside its string.
public struct JSONLogHandler: LogHandler {
    private let label: String
    private let output: JSONLogOutput
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler writing to standard error.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, output: .standardError, metadataProvider: metadataProvider)
    }

    init(label: String, output: JSONLogOutput, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var line = "{\"time\":" + Self.string(Self.timestamp()) + ",\"level\":" + Self.string(event.level.rawValue)
            + ",\"label\":" + Self.string(label) + ",\"message\":" + Self.string(event.message.description)
            + ",\"source\":" + Self.string(event.source)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message", "source"].contains(key) {
            line += "," + Self.string(key) + ":" + Self.json(value)
        }
        line += "}\n"
        output.write(line)
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): string(text)
        case .stringConvertible(let convertible): string(convertible.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.sorted(by: { $0.key < $1.key }).map { string($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// `text` as a JSON string: quotes, backslashes and every control character escaped.
    static func string(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Where JSON log lines go: whole lines, one write each, under a lock so lines of
/// different threads never interleave.
final class JSONLogOutput: Sendable {
    static let standardError = JSONLogOutput(descriptor: 2)

    private let descriptor: Int32
    private let lock = Mutex(())

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    func write(_ line: String) {
        let bytes = Array(line.utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
