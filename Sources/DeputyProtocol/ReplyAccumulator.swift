import NIOCore

/// Collects reply lines into complete ``Reply`` values, for clients.
///
/// Feed it every line after framing (for example from ``LineFrameDecoder``); it returns a
/// reply each time a status line arrives and `nil` while records are pending. The greeting
/// arrives as a reply with no records (see ``Greeting``).
///
/// ```swift
/// var accumulator = ReplyAccumulator()
/// for line in lines {
///     if let reply = try accumulator.append(line: line) { handle(reply) }
/// }
/// ```
public struct ReplyAccumulator: Sendable {
    private let parser: ReplyParser
    private let maximumRecords: Int
    private var pending: [ReplyRecord] = []

    /// Creates an accumulator that enforces `maximumRecordsPerReply` and
    /// `maximumFieldsPerRecord` from `limits`.
    public init(limits: ProtocolLimits = .default) {
        self.parser = ReplyParser(limits: limits)
        self.maximumRecords = limits.maximumRecordsPerReply
    }

    /// The number of records received since the last status line.
    public var pendingRecordCount: Int {
        self.pending.count
    }

    /// Parses one line (without or with its terminator) and returns the reply it completes.
    ///
    /// After an error the partial reply is dropped; the connection should be treated as broken.
    public mutating func append(line: ByteBuffer) throws(ProtocolError) -> Reply? {
        let parsed: ReplyLine
        do {
            parsed = try self.parser.parse(line)
        } catch {
            self.pending.removeAll()
            throw error
        }
        return try self.append(parsed)
    }

    /// Adds an already parsed line and returns the reply it completes.
    public mutating func append(_ line: ReplyLine) throws(ProtocolError) -> Reply? {
        switch line {
        case .record(let record):
            guard self.pending.count < self.maximumRecords else {
                self.pending.removeAll()
                throw ProtocolError(.tooManyRecords(limit: self.maximumRecords))
            }
            self.pending.append(record)
            return nil
        case .status(let status):
            let reply = Reply(records: self.pending, status: status)
            self.pending.removeAll()
            return reply
        }
    }
}
