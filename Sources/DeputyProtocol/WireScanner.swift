/// A cursor over one validated line, reading the tokens shared by requests and data records:
/// bare tokens, quoted strings and `key=` prefixes.
///
/// The line must already have passed ``LineValidation``, so any byte range that starts and
/// ends on token boundaries is well-formed UTF-8.
struct WireScanner {
    let bytes: UnsafeBufferPointer<UInt8>

    /// Zero-based offset of the next unread byte.
    private(set) var position: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool {
        self.position >= self.bytes.count
    }

    /// The next unread byte, or `nil` at the end of the line.
    var current: UInt8? {
        self.isAtEnd ? nil : self.bytes[self.position]
    }

    /// The 1-based column of the next unread byte, as reported in errors.
    var column: Int {
        self.position + 1
    }

    // MARK: - Moving

    /// Skips spaces and TABs and returns how many were skipped.
    @discardableResult
    mutating func skipSeparators() -> Int {
        let start = self.position
        while self.position < self.bytes.count, WireByte.isSeparator(self.bytes[self.position]) {
            self.position += 1
        }
        return self.position - start
    }

    /// Consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard self.current == byte else { return false }
        self.position += 1
        return true
    }

    /// Consumes the exact ASCII `prefix` if it comes next.
    mutating func consume(prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard self.bytes.count - self.position >= count else { return false }
        let matches = prefix.withUTF8Buffer { expected in
            for index in 0..<count where self.bytes[self.position + index] != expected[index] {
                return false
            }
            return true
        }
        if matches { self.position += count }
        return matches
    }

    /// The rest of the line from the current position, without consuming it.
    var remainder: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self.bytes[self.position...])
    }

    mutating func moveToEnd() {
        self.position = self.bytes.count
    }

    // MARK: - Tokens

    /// If the next bytes are `[A-Za-z0-9_-]+=`, consumes them and returns the key.
    ///
    /// Leaves the position unchanged otherwise, so the caller can read a bare token instead.
    mutating func readKeyAndEquals() -> String? {
        var end = self.position
        while end < self.bytes.count, WireByte.isKeyByte(self.bytes[end]) {
            end += 1
        }
        guard end > self.position, end < self.bytes.count, self.bytes[end] == WireByte.equals else { return nil }
        let key = self.string(self.position..<end)
        self.position = end + 1
        return key
    }

    /// Reads a bare token up to the next separator or the end of the line.
    ///
    /// Refuses double quotes and control characters; the token may be empty, which callers that
    /// need a non-empty token check themselves.
    mutating func readBare() throws(ProtocolError) -> String {
        let start = self.position
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if WireByte.isSeparator(byte) { break }
            if byte == WireByte.quote { throw ProtocolError(.unexpectedQuote, column: self.column) }
            if WireByte.isControl(byte) { throw ProtocolError(.controlCharacter(byte), column: self.column) }
            self.position += 1
        }
        return self.string(start..<self.position)
    }

    /// Reads a value after `key=`: a quoted string, or a possibly empty bare token.
    mutating func readValue() throws(ProtocolError) -> String {
        if self.current == WireByte.quote {
            return try self.readQuoted()
        }
        return try self.readBare()
    }

    /// Reads a double-quoted string starting at the current position and decodes its escapes.
    ///
    /// Accepted escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\0` and `\xHH` with HH below 80 (so the
    /// result is always valid UTF-8). A raw TAB is accepted; other control characters are not.
    /// The closing quote must be followed by a separator or the end of the line.
    mutating func readQuoted() throws(ProtocolError) -> String {
        let openingColumn = self.column
        self.position += 1
        var segmentStart = self.position
        // Only allocated when the string has an escape; the common case decodes in place.
        var decoded: [UInt8]? = nil

        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            switch byte {
            case WireByte.quote:
                let value: String
                if var unescaped = decoded {
                    unescaped.append(contentsOf: self.bytes[segmentStart..<self.position])
                    value = String(decoding: unescaped, as: UTF8.self)
                } else {
                    value = self.string(segmentStart..<self.position)
                }
                self.position += 1
                if let next = self.current, !WireByte.isSeparator(next) {
                    throw ProtocolError(.missingSeparator, column: self.column)
                }
                return value

            case WireByte.backslash:
                if decoded == nil {
                    decoded = []
                    decoded!.reserveCapacity(self.bytes.count - segmentStart)
                }
                decoded!.append(contentsOf: self.bytes[segmentStart..<self.position])
                let (byte, length) = try self.readEscape()
                decoded!.append(byte)
                self.position += length
                segmentStart = self.position

            case WireByte.tab:
                self.position += 1

            default:
                if WireByte.isControl(byte) {
                    throw ProtocolError(.controlCharacter(byte), column: self.column)
                }
                self.position += 1
            }
        }
        throw ProtocolError(.unterminatedQuote, column: openingColumn)
    }

    /// Decodes the escape whose backslash is at the current position, without moving.
    ///
    /// Returns the decoded byte and the length of the escape sequence.
    func readEscape() throws(ProtocolError) -> (byte: UInt8, length: Int) {
        let escapeColumn = self.column
        guard self.position + 1 < self.bytes.count else {
            // A backslash at the very end of the line: the closing quote cannot follow.
            throw ProtocolError(.invalidEscape, column: escapeColumn)
        }
        switch self.bytes[self.position + 1] {
        case WireByte.quote: return (WireByte.quote, 2)
        case WireByte.backslash: return (WireByte.backslash, 2)
        case UInt8(ascii: "n"): return (WireByte.lineFeed, 2)
        case UInt8(ascii: "r"): return (WireByte.carriageReturn, 2)
        case UInt8(ascii: "t"): return (WireByte.tab, 2)
        case UInt8(ascii: "0"): return (WireByte.nul, 2)
        case UInt8(ascii: "x"):
            guard self.position + 3 < self.bytes.count,
                let high = WireByte.hexValue(self.bytes[self.position + 2]),
                let low = WireByte.hexValue(self.bytes[self.position + 3]),
                high < 8
            else {
                throw ProtocolError(.invalidEscape, column: escapeColumn)
            }
            return (high << 4 | low, 4)
        default:
            throw ProtocolError(.invalidEscape, column: escapeColumn)
        }
    }

    /// Reads free status text up to the end of the line, decoding the same escapes as
    /// ``readQuoted()``; double quotes and TABs are taken literally.
    mutating func readStatusText() throws(ProtocolError) -> String {
        var segmentStart = self.position
        var decoded: [UInt8]? = nil
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == WireByte.backslash {
                if decoded == nil {
                    decoded = []
                    decoded!.reserveCapacity(self.bytes.count - segmentStart)
                }
                decoded!.append(contentsOf: self.bytes[segmentStart..<self.position])
                let (byte, length) = try self.readEscape()
                decoded!.append(byte)
                self.position += length
                segmentStart = self.position
            } else if byte != WireByte.tab, WireByte.isControl(byte) {
                throw ProtocolError(.controlCharacter(byte), column: self.column)
            } else {
                self.position += 1
            }
        }
        guard var unescaped = decoded else { return self.string(segmentStart..<self.position) }
        unescaped.append(contentsOf: self.bytes[segmentStart..<self.position])
        return String(decoding: unescaped, as: UTF8.self)
    }

    // MARK: - Text

    /// The bytes in `range` as a `String`; the range must lie on token boundaries.
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self.bytes[range]), as: UTF8.self)
    }
}
