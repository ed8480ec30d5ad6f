import NIOCore

/// A lookup read by ``LookupQueryParser``: its kind, with its arguments left where they lie
/// in the line, so that a server can look them up from the bytes without making a `String`
/// of each. ``request`` is the same lookup as a ``Request``.
public struct LookupQuery: Sendable {
    /// The lookups the parser reads.
    public enum Kind: Sendable {
        /// `QUERY SENDAS login address`
        case sendAs
        /// `QUERY SENDONBEHALF login address`
        case sendOnBehalf
        /// `QUERY DELEGATES mailbox`
        case delegates
    }

    /// Which lookup this is.
    public let kind: Kind
    /// The line, whose readable bytes the ranges index.
    let line: ByteBuffer
    /// The first argument: the login, or the mailbox of `DELEGATES`.
    let first: Range<Int>
    /// The second argument, the address; empty for `DELEGATES`.
    let second: Range<Int>

    init(kind: Kind, line: ByteBuffer, first: Range<Int>, second: Range<Int>) {
        self.kind = kind
        self.line = line
        self.first = first
        self.second = second
    }

    /// Calls `body` with the bytes of the first and second arguments (the second empty for
    /// `DELEGATES`), valid only during the call.
    public func withArguments<Result>(
        _ body: (_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        try line.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return try body(UnsafeBufferPointer(rebasing: bytes[first]), UnsafeBufferPointer(rebasing: bytes[second]))
        }
    }

    /// The lookup as a request: what the general parser makes of the line.
    public var request: Request {
        withArguments { first, second in
            let first = String(decoding: first, as: UTF8.self)
            switch kind {
            case .sendAs: return .query(.sendAs(login: first, address: String(decoding: second, as: UTF8.self)))
            case .sendOnBehalf: return .query(.sendOnBehalf(login: first, address: String(decoding: second, as: UTF8.self)))
            case .delegates: return .query(.delegates(mailbox: first))
            }
        }
    }

    /// The verb table's name of the lookup, as ``Request/name`` gives it for ``request``.
    public var name: String {
        switch kind {
        case .sendAs: "QUERY SENDAS"
        case .sendOnBehalf: "QUERY SENDONBEHALF"
        case .delegates: "QUERY DELEGATES"
        }
    }
}
