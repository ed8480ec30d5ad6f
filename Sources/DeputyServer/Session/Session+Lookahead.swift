import DeputyCore
import NIOCore

extension Session {
    /// Announces the addresses the `QUERY` lines among `lines` will look up, so that their
    /// index memory loads together before the lines are answered one by one
    /// (``DeputyCore/AddressLookahead``): a read from a mail server holds a dozen pipelined
    /// lookups.
    ///
    /// Nothing is parsed for real here. A query's looked-up addresses are its arguments with
    /// an `@` (the login and the address of `SENDAS`, the mailbox of `DELEGATES`, the user
    /// of `MAILBOXES`), skipping `key=value` options: a `SENDAS` that the address's entry
    /// alone does not allow (a refusal, a grant through a group) reads the login's entry
    /// too. A line this misreads is only answered without a hint.
    mutating func prefetchQueries(_ lines: [ByteBuffer]) {
        guard let principal else { return }
        lookahead.removeAll()
        for line in lines where !lookahead.isFull {
            line.withUnsafeReadableBytes { Self.announceAddress(ofQuery: $0, into: &lookahead) }
        }
        // A single lookup gains nothing from being announced.
        guard lookahead.count > 1 else { return }
        // The view the queries will answer from, its version borrowed (see ``SessionView``).
        refreshView(of: principal)
        view.unsafelyUnwrapped.unmanagedVersion._withUnsafeGuaranteedRef { $0.prefetch(lookahead) }
    }

    /// Whether `token` holds an `@` and is neither an option (`=`) nor quoted: one pass, where
    /// three generic searches compared a byte at a time through a protocol's `==`.
    private static func isPlainAddress(_ token: UnsafeRawBufferPointer) -> Bool {
        var hasAt = false
        for index in 0..<token.count {
            switch token[index] {
            case UInt8(ascii: "@"): hasAt = true
            case UInt8(ascii: "="), UInt8(ascii: "\""): return false
            default: continue
            }
        }
        return hasAt
    }

    /// Adds the looked-up addresses of `line` to `lookahead` when the line is a `QUERY`.
    static func announceAddress(ofQuery line: UnsafeRawBufferPointer, into lookahead: inout AddressLookahead) {
        let space = UInt8(ascii: " ")
        // "QUERY " in any case: ASCII letters fold to lowercase with 0x20.
        guard line.count > 6,
            line[0] | 0x20 == UInt8(ascii: "q"), line[1] | 0x20 == UInt8(ascii: "u"), line[2] | 0x20 == UInt8(ascii: "e"),
            line[3] | 0x20 == UInt8(ascii: "r"), line[4] | 0x20 == UInt8(ascii: "y"), line[5] == space
        else { return }
        var end = line.count
        if line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        // The arguments from the last: each with an `@` that is neither an option nor quoted.
        while end > 6 {
            var start = end
            while start > 6, line[start - 1] != space { start -= 1 }
            let token = UnsafeRawBufferPointer(rebasing: line[start..<end])
            if Self.isPlainAddress(token) { lookahead.add(token) }
            end = start - 1
        }
    }
}
