import NIOCore

/// A complete reply: zero or more data records followed by one status line.
///
/// ```
/// * mail=alice@example.org
/// * mail=bob@example.org
/// OK 2 entries
/// ```
public struct Reply: Hashable, Sendable {
    /// How the reply holds its records.
    private enum Body: Sendable {
        /// As values.
        case records([ReplyRecord])
        /// As a ``ReplyRecordsWriter`` wrote them: every line, each with its LF.
        case wire(ByteBuffer, count: Int)
    }

    private var body: Body

    /// The closing status.
    public var status: ReplyStatus

    /// Creates a reply.
    public init(records: [ReplyRecord] = [], status: ReplyStatus) {
        self.body = .records(records)
        self.status = status
    }

    /// Creates a reply of the records a writer wrote.
    public init(records: ReplyRecordsWriter, status: ReplyStatus) {
        self.body = .wire(records.bytes, count: records.count)
        self.status = status
    }

    /// The data records, in order. A reply made from a ``ReplyRecordsWriter`` reads them
    /// back from their wire form.
    public var records: [ReplyRecord] {
        get {
            switch body {
            case .records(let records): records
            case .wire(let bytes, _): Self.records(fromWire: bytes)
            }
        }
        set {
            body = .records(newValue)
        }
    }

    /// The number of data records.
    public var recordCount: Int {
        switch body {
        case .records(let records): records.count
        case .wire(_, let count): count
        }
    }

    /// The records' lines as a ``ReplyRecordsWriter`` wrote them: ``ReplyEncoder`` copies
    /// them whole.
    var wireRecords: ByteBuffer? {
        if case .wire(let bytes, _) = body { return bytes }
        return nil
    }

    public static func == (lhs: Reply, rhs: Reply) -> Bool {
        lhs.status == rhs.status && lhs.records == rhs.records
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(records)
        hasher.combine(status)
    }

    private static func records(fromWire bytes: ByteBuffer) -> [ReplyRecord] {
        var remaining = bytes
        var records: [ReplyRecord] = []
        while let end = remaining.readableBytesView.firstIndex(of: WireByte.lineFeed) {
            let line = remaining.readSlice(length: end - remaining.readerIndex + 1)!
            guard case .record(let record)? = try? ReplyParser().parse(line) else {
                preconditionFailure("a reply's own records do not parse")
            }
            records.append(record)
        }
        return records
    }
}
