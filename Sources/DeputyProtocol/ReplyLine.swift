/// One parsed reply line: a data record or a status.
public enum ReplyLine: Hashable, Sendable {
    /// A `* key=value ...` data line.
    case record(ReplyRecord)
    /// An `OK ...` or `ERR ...` status line.
    case status(ReplyStatus)
}
