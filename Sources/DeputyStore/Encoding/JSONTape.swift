import Foundation

/// A JSON document checked and indexed in one pass: every value is a token that knows
/// where it lies, and every container where it ends, so that decoding can jump over
/// members it does not need and report byte offsets.
///
/// Validates RFC 8259 syntax (UTF-8 included) and stops at the first error with its offset.
/// Iterative, so deep nesting cannot exhaust the stack.
struct JSONTape: Sendable {
    enum Kind: UInt8, Sendable {
        case object, array, string, number, `true`, `false`, null
    }

    struct Token: Sendable {
        let kind: Kind
        /// For strings: whether there are escapes to undo.
        var escaped: Bool
        /// Where the value starts (for a string, after its opening quote).
        let start: Int32
        /// For scalars, where they end (a string's closing quote); for containers, the
        /// index of the token after the container.
        var end: Int32
        /// For containers, the number of members or elements.
        var count: Int32
    }

    struct SyntaxError: Error, Hashable {
        let offset: Int
        let reason: String
    }

    let bytes: [UInt8]
    private(set) var tokens: [Token] = []

    /// Parses `bytes`; throws the first syntax error.
    init(_ bytes: [UInt8]) throws(SyntaxError) {
        guard bytes.count < Int32.max else { throw SyntaxError(offset: 0, reason: "the document is larger than 2 GiB") }
        self.bytes = bytes
        tokens.reserveCapacity(bytes.count / 8)
        try parse()
    }

    // MARK: - Parsing

    private enum Expectation {
        case value, valueOrClose, key, keyOrClose, colon, commaOrClose, end
    }

    private mutating func parse() throws(SyntaxError) {
        var open: [Int] = []
        var expectation = Expectation.value
        var index = 0
        let count = bytes.count
        func afterValue() -> Expectation { open.isEmpty ? .end : .commaOrClose }
        while true {
            while index < count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
            guard index < count else {
                if expectation == .end { return }
                throw SyntaxError(offset: index, reason: "the document ends early")
            }
            let byte = bytes[index]
            switch expectation {
            case .value, .valueOrClose:
                if expectation == .valueOrClose, byte == UInt8(ascii: "]") {
                    closeContainer(open.removeLast())
                    index += 1
                    expectation = afterValue()
                    continue
                }
                if let container = open.last { tokens[container].count += 1 }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    open.append(tokens.count)
                    tokens.append(Token(kind: byte == UInt8(ascii: "{") ? .object : .array, escaped: false, start: Int32(index), end: 0, count: 0))
                    index += 1
                    expectation = byte == UInt8(ascii: "{") ? .keyOrClose : .valueOrClose
                } else {
                    index = try scanScalar(at: index)
                    expectation = afterValue()
                }
            case .key, .keyOrClose:
                if expectation == .keyOrClose, byte == UInt8(ascii: "}") {
                    closeContainer(open.removeLast())
                    index += 1
                    expectation = afterValue()
                    continue
                }
                guard byte == UInt8(ascii: "\"") else { throw SyntaxError(offset: index, reason: "expected a key in quotes") }
                index = try scanString(at: index)
                expectation = .colon
            case .colon:
                guard byte == UInt8(ascii: ":") else { throw SyntaxError(offset: index, reason: "expected ':' after a key") }
                index += 1
                expectation = .value
            case .commaOrClose:
                let container = open[open.count - 1]
                let isObject = tokens[container].kind == .object
                if byte == UInt8(ascii: ",") {
                    index += 1
                    expectation = isObject ? .key : .value
                } else if byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    closeContainer(open.removeLast())
                    index += 1
                    expectation = afterValue()
                } else {
                    throw SyntaxError(offset: index, reason: "expected ',' or the end of the \(isObject ? "object" : "array")")
                }
            case .end:
                throw SyntaxError(offset: index, reason: "unexpected data after the end of the document")
            }
        }
    }

    private mutating func closeContainer(_ container: Int) {
        tokens[container].end = Int32(tokens.count)
    }

    private mutating func scanScalar(at start: Int) throws(SyntaxError) -> Int {
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return try scanString(at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let end = try scanNumber(at: start)
            tokens.append(Token(kind: .number, escaped: false, start: Int32(start), end: Int32(end), count: 0))
            return end
        case UInt8(ascii: "t"):
            return try scanLiteral("true", .true, at: start)
        case UInt8(ascii: "f"):
            return try scanLiteral("false", .false, at: start)
        case UInt8(ascii: "n"):
            return try scanLiteral("null", .null, at: start)
        default:
            throw SyntaxError(offset: start, reason: "unexpected character")
        }
    }

    private mutating func scanLiteral(_ literal: StaticString, _ kind: Kind, at start: Int) throws(SyntaxError) -> Int {
        let length = literal.utf8CodeUnitCount
        guard start + length <= bytes.count,
            literal.withUTF8Buffer({ bytes[start..<(start + length)].elementsEqual($0) })
        else { throw SyntaxError(offset: start, reason: "expected \(literal)") }
        tokens.append(Token(kind: kind, escaped: false, start: Int32(start), end: Int32(start + length), count: 0))
        return start + length
    }

    private func scanNumber(at start: Int) throws(SyntaxError) -> Int {
        var index = start
        func digits() -> Bool {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index > first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if !digits() {
            throw SyntaxError(offset: start, reason: "malformed number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() else { throw SyntaxError(offset: start, reason: "malformed number") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() else { throw SyntaxError(offset: start, reason: "malformed number") }
        }
        return index
    }

    /// Scans the string whose opening quote is at `start`; returns the offset after it.
    private mutating func scanString(at start: Int) throws(SyntaxError) -> Int {
        var index = start + 1
        var escaped = false
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                tokens.append(Token(kind: .string, escaped: escaped, start: Int32(start + 1), end: Int32(index), count: 0))
                return index + 1
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                guard index + 1 < count else { break }
                let next = bytes[index + 1]
                if next == UInt8(ascii: "u") {
                    guard index + 6 <= count, bytes[(index + 2)..<(index + 6)].allSatisfy({ Self.hexValue($0) != nil }) else {
                        throw SyntaxError(offset: index, reason: "malformed \\u escape")
                    }
                    index += 6
                } else {
                    guard "\"\\/bfnrt".utf8.contains(next) else { throw SyntaxError(offset: index, reason: "unknown escape") }
                    index += 2
                }
            } else if byte < 0x20 {
                throw SyntaxError(offset: index, reason: "control character in a string")
            } else if byte < 0x80 {
                index += 1
            } else {
                index = try scanMultibyte(at: index)
            }
        }
        throw SyntaxError(offset: count, reason: "the document ends inside a string")
    }

    /// Checks one UTF-8 character of two to four bytes (no overlong forms, no surrogates).
    private func scanMultibyte(at index: Int) throws(SyntaxError) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw SyntaxError(offset: index, reason: "invalid UTF-8")
        }
        guard index + length <= bytes.count, (low...high).contains(bytes[index + 1]),
            bytes[(index + 2)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 })
        else { throw SyntaxError(offset: index, reason: "invalid UTF-8") }
        return index + length
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: - Reading tokens

    /// The index of the token after the value at `index`.
    func next(after index: Int) -> Int {
        let token = tokens[index]
        return token.kind == .object || token.kind == .array ? Int(token.end) : index + 1
    }

    /// Where the value of token `index` starts in the document (a string's opening quote).
    func offset(of index: Int) -> Int {
        let token = tokens[index]
        return Int(token.start) - (token.kind == .string ? 1 : 0)
    }

    /// Whether string token `index` spells `text` exactly.
    func string(_ index: Int, equals text: String) -> Bool {
        let token = tokens[index]
        guard !token.escaped else { return self.string(index) == text }
        let length = Int(token.end - token.start)
        var text = text
        return text.withUTF8 { utf8 in
            guard utf8.count == length else { return false }
            guard length > 0 else { return true }
            return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(token.start), utf8.baseAddress!, length) == 0 }
        }
    }

    /// The integer in number token `index`, or `nil` when it is not one or does not fit.
    func integer<T: FixedWidthInteger>(_ index: Int, as type: T.Type) -> T? {
        let token = tokens[index]
        guard token.kind == .number else { return nil }
        var position = Int(token.start)
        let end = Int(token.end)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var value: T = 0
        while position < end {
            let byte = bytes[position]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = T(byte - UInt8(ascii: "0"))
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (added, overflowAgain) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow, !overflowAgain else { return nil }
            value = added
            position += 1
        }
        return value
    }

    /// The text of string token `index`, escapes undone.
    func string(_ index: Int) -> String {
        let token = tokens[index]
        let range = Int(token.start)..<Int(token.end)
        guard token.escaped else { return String(decoding: bytes[range], as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: position)
                position += 4
                // A surrogate pair spells one scalar in two escapes.
                if (0xD800..<0xDC00).contains(scalar), position + 6 <= range.upperBound,
                    bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(at: position + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                }
                output.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: output.append(escape)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private func hex4(at position: Int) -> UInt32 {
        bytes[position..<(position + 4)].reduce(0) { $0 << 4 | UInt32(Self.hexValue($1) ?? 0) }
    }
}
