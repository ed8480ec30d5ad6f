/// A complete reply: zero or more data records followed by one status line.
///
/// ```
/// * mail=alice@example.org
/// * mail=bob@example.org
/// OK 2 entries
/// ```
public struct Reply: Hashable, Sendable {
    /// The data records, in order.
    public var records: [ReplyRecord]

    /// The closing status.
    public var status: ReplyStatus

    /// Creates a reply.
    public init(records: [ReplyRecord] = [], status: ReplyStatus) {
        self.records = records
        self.status = status
    }
}
