/// Byte constants and classifications shared by every parser and encoder of the protocol.
///
/// All grammar decisions are made on bytes so that parsing never depends on Unicode
/// normalisation or locale, and so the same rules apply to requests and replies.
enum WireByte {
    // MARK: - Constants

    static let nul: UInt8 = 0x00
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let asterisk: UInt8 = 0x2A
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
    static let delete: UInt8 = 0x7F

    // MARK: - Classes

    /// C0 controls and DEL. TAB is a control character too; callers that accept it check first.
    @inline(__always)
    static func isControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == Self.delete
    }

    /// Argument and field separator: space or TAB.
    @inline(__always)
    static func isSeparator(_ byte: UInt8) -> Bool {
        byte == Self.space || byte == Self.tab
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    @inline(__always)
    static func isLowercaseLetter(_ byte: UInt8) -> Bool {
        byte >= 0x61 && byte <= 0x7A
    }

    @inline(__always)
    static func isUppercaseLetter(_ byte: UInt8) -> Bool {
        byte >= 0x41 && byte <= 0x5A
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        Self.isDigit(byte) || Self.isLowercaseLetter(byte) || Self.isUppercaseLetter(byte)
    }

    /// A byte allowed in a named-argument or record key: `[A-Za-z0-9_-]`.
    @inline(__always)
    static func isKeyByte(_ byte: UInt8) -> Bool {
        Self.isAlphanumeric(byte) || byte == 0x5F || byte == 0x2D
    }

    /// Whether a byte must be escaped inside a quoted string.
    @inline(__always)
    static func needsQuotedEscape(_ byte: UInt8) -> Bool {
        Self.isControl(byte) || byte == Self.quote || byte == Self.backslash
    }

    /// The value of an ASCII hexadecimal digit, or `nil`.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    // MARK: - Whole-string checks

    /// Whether `string` is a valid key: one or more of `[A-Za-z0-9_-]`.
    static func isValidKey(_ string: String) -> Bool {
        let utf8 = string.utf8
        // Over the contiguous bytes where the string has them (literals and native strings
        // do): every reply field's key is checked, and this is several times cheaper than
        // iterating the UTF-8 view.
        if let valid = utf8.withContiguousStorageIfAvailable({ bytes in !bytes.isEmpty && bytes.allSatisfy(Self.isKeyByte) }) {
            return valid
        }
        return !utf8.isEmpty && utf8.allSatisfy(Self.isKeyByte)
    }

    /// Whether `string` is a valid verb: one or more ASCII letters or digits.
    static func isValidVerb(_ string: String) -> Bool {
        let utf8 = string.utf8
        if let valid = utf8.withContiguousStorageIfAvailable({ bytes in !bytes.isEmpty && bytes.allSatisfy(Self.isAlphanumeric) }) {
            return valid
        }
        return !utf8.isEmpty && utf8.allSatisfy(Self.isAlphanumeric)
    }

    /// ASCII-only lowercasing, which is all keys need and never changes their length.
    static func asciiLowercased(_ string: String) -> String {
        guard string.utf8.contains(where: Self.isUppercaseLetter) else { return string }
        return String(decoding: string.utf8.map { Self.isUppercaseLetter($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// ASCII-only uppercasing, used for verbs and subverbs.
    static func asciiUppercased(_ string: String) -> String {
        guard string.utf8.contains(where: Self.isLowercaseLetter) else { return string }
        return String(decoding: string.utf8.map { Self.isLowercaseLetter($0) ? $0 & 0xDF : $0 }, as: UTF8.self)
    }

    /// Whether `text` is `uppercase` (already uppercase ASCII) in any ASCII case, compared
    /// without making a new string.
    static func equalIgnoringASCIICase(_ text: String, _ uppercase: String) -> Bool {
        var text = text.utf8.makeIterator()
        for expected in uppercase.utf8 {
            guard let byte = text.next(), (isLowercaseLetter(byte) ? byte & 0xDF : byte) == expected else { return false }
        }
        return text.next() == nil
    }

    /// `text` if it is short and made only of key bytes, so it can be echoed in an error message
    /// without risk of reflecting secrets or control characters; otherwise `nil`.
    static func echoable(_ text: String, maximumLength: Int = 32) -> String? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maximumLength, utf8.allSatisfy(Self.isKeyByte) else { return nil }
        return text
    }
}
