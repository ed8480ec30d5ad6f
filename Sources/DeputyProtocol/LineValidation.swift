/// Whole-line checks made before tokenising: well-formed UTF-8 and no NUL byte.
///
/// Validating once up front lets the tokenisers build `String`s from byte ranges without
/// re-checking, and gives a precise column for the first bad byte.
enum LineValidation {
    /// The first problem found in a line.
    enum Problem: Equatable {
        /// A NUL byte at the given zero-based offset.
        case nul(offset: Int)
        /// An ill-formed UTF-8 sequence starting at the given zero-based offset.
        case invalidUTF8(offset: Int)
    }

    /// Returns the first problem in `bytes`, or `nil` when the line is clean.
    ///
    /// Follows the well-formed UTF-8 table of the Unicode standard (no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    static func firstProblem(in bytes: UnsafeBufferPointer<UInt8>) -> Problem? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == WireByte.nul { return .nul(offset: index) }
                index += 1
                continue
            }
            let continuationCount: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF:
                continuationCount = 1
            case 0xE0:
                continuationCount = 2
                lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF:
                continuationCount = 2
            case 0xED:
                continuationCount = 2
                upper = 0x9F
            case 0xF0:
                continuationCount = 3
                lower = 0x90
            case 0xF1...0xF3:
                continuationCount = 3
            case 0xF4:
                continuationCount = 3
                upper = 0x8F
            default:
                return .invalidUTF8(offset: index)
            }
            guard index + continuationCount < count else { return .invalidUTF8(offset: index) }
            let second = bytes[index + 1]
            guard second >= lower, second <= upper else { return .invalidUTF8(offset: index) }
            var next = index + 2
            while next <= index + continuationCount {
                guard bytes[next] & 0xC0 == 0x80 else { return .invalidUTF8(offset: index) }
                next += 1
            }
            index = next
        }
        return nil
    }

    /// Throws the matching `ProtocolError` if `bytes` has a problem.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(ProtocolError) {
        switch Self.firstProblem(in: bytes) {
        case .none:
            return
        case .nul(let offset):
            throw ProtocolError(.nulByte, column: offset + 1)
        case .invalidUTF8(let offset):
            throw ProtocolError(.invalidUTF8, column: offset + 1)
        }
    }

    /// The line without one trailing LF or CRLF, if present.
    ///
    /// The framing decoder already strips terminators; this makes the parsers equally happy
    /// with a line read by other means.
    static func strippingTerminator(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = bytes.count
        if end > 0, bytes[end - 1] == WireByte.lineFeed {
            end -= 1
            if end > 0, bytes[end - 1] == WireByte.carriageReturn { end -= 1 }
        }
        return UnsafeBufferPointer(rebasing: bytes[0..<end])
    }
}
