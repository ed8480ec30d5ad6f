import NIOCore

/// Parses the lookups mail servers send by the thousand, `QUERY SENDAS`,
/// `QUERY SENDONBEHALF` and `QUERY DELEGATES` with plain words for arguments, straight into
/// a ``Request``: no ``RequestLine``, no arrays of arguments and operands, no look-up in the
/// verb table. Those were a sixth of a `QUERY SENDAS` answer's time.
///
/// It declines, returning `nil`, every other line: another verb, a quote, a word with `=`
/// (which may be a named argument), the wrong number of words, a control character, or
/// bytes that ``LineValidation`` refuses. A line it declines goes through ``RequestParser`` and
/// ``VerbSyntax``, which parse every line it accepts into the same request, errors included.
///
/// ```swift
/// LookupQueryParser.parse("query sendas bob@example.org sales@example.org")
/// // .query(.sendAs(login: "bob@example.org", address: "sales@example.org"))
/// LookupQueryParser.parse("QUERY SENDAS bob@example.org sales@example.org revision=7")   // nil
/// ```
public enum LookupQueryParser {
    /// The request a line holds (its readable bytes, with or without its terminator), or
    /// `nil` where the general parser must read it.
    public static func parse(_ line: ByteBuffer) -> Request? {
        lookup(in: line)?.request
    }

    /// The request a line given as text holds, or `nil`.
    public static func parse(_ line: String) -> Request? {
        var buffer = ByteBuffer()
        buffer.writeString(line)
        return parse(buffer)
    }

    /// The lookup a line holds, its arguments left where they lie in it, or `nil` where the
    /// general parser must read the line. ``LookupQuery/request`` is the request
    /// ``parse(_:)-(ByteBuffer)`` returns.
    public static func lookup(in line: ByteBuffer) -> LookupQuery? {
        line.withUnsafeReadableBytes { raw in
            scan(raw.bindMemory(to: UInt8.self)).map { LookupQuery(kind: $0.kind, line: line, first: $0.first, second: $0.second) }
        }
    }

    /// The kind of lookup in `line` and where its arguments lie (the second empty for
    /// `DELEGATES`), or `nil`.
    static func scan(_ line: UnsafeBufferPointer<UInt8>) -> (kind: LookupQuery.Kind, first: Range<Int>, second: Range<Int>)? {
        let bytes = LineValidation.strippingTerminator(line)
        // The subverb, and the bounds of the at most two arguments after it; a fifth word
        // is only counted, to tell a line with too many.
        var subverb: LookupQuery.Kind?
        var words = (0..<0, 0..<0)
        var count = 0
        var index = 0
        var ascii = true
        // One pass over the line, each byte compared in place.
        while index < bytes.count {
            if bytes[index] == WireByte.space || bytes[index] == WireByte.tab {
                index += 1
                continue
            }
            guard count < 5 else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == WireByte.space || byte == WireByte.tab { break }
                // A quoted word, one that may be a named argument, or a control character
                // (an error): the general parser's.
                if byte < 0x20 || byte == WireByte.delete || byte == WireByte.quote || byte == WireByte.equals { return nil }
                if byte >= 0x80 { ascii = false }
                index += 1
            }
            switch count {
            case 0:
                // Any other verb is left as soon as it is read: the rest of the line unscanned.
                guard matches(bytes, start..<index, "query") else { return nil }
            case 1:
                if matches(bytes, start..<index, "sendas") {
                    subverb = .sendAs
                } else if matches(bytes, start..<index, "sendonbehalf") {
                    subverb = .sendOnBehalf
                } else if matches(bytes, start..<index, "delegates") {
                    subverb = .delegates
                } else {
                    return nil
                }
            case 2: words.0 = start..<index
            case 3: words.1 = start..<index
            default: break
            }
            count += 1
        }
        // Bytes outside ASCII: only well-formed UTF-8 is this parser's.
        guard ascii || LineValidation.firstProblem(in: bytes) == nil else { return nil }
        switch (subverb, count) {
        case (.sendAs?, 4): return (.sendAs, words.0, words.1)
        case (.sendOnBehalf?, 4): return (.sendOnBehalf, words.0, words.1)
        case (.delegates?, 3): return (.delegates, words.0, 0..<0)
        default: return nil
        }
    }

    /// Whether the word at `range` is `lowercase` in any case.
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let letters = lowercase.utf8Start
        for offset in 0..<range.count {
            // Every byte of the keywords is a letter: `| 0x20` folds only `A`-`Z` onto them.
            guard bytes[range.lowerBound + offset] | 0x20 == letters[offset] else { return false }
        }
        return true
    }
}
