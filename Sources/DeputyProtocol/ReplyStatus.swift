/// The status line that ends every reply.
///
/// ```
/// OK
/// OK 3 entries
/// ERR notfound no such user
/// ```
///
/// Status text is free text. On the wire, backslashes and control characters in it are escaped
/// (`\\`, `\n`, `\r`, `\t`, `\0`, `\xHH`) so the line can never be split or forged; double
/// quotes are written as they are.
public enum ReplyStatus: Hashable, Sendable {
    /// Success, with optional text. `nil` is written `OK`; `""` is written `OK ` (with a space).
    case ok(text: String?)
    /// Failure with a stable code and explanatory text, written `ERR <code> <text>`.
    case error(code: ErrorCode, text: String)

    /// Whether this is an `OK` status.
    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    /// A failure status reporting `error` with its code and peer-safe message.
    public init(_ error: ProtocolError) {
        self = .error(code: error.errorCode, text: error.message)
    }
}
