/// An error in the Deputy wire protocol: a line that cannot be framed or parsed, or a request
/// that does not match its verb's syntax.
///
/// The `message` is written for the peer and never quotes the offending line (it may carry a
/// password); at most it names a short key, verb or subverb made of `[A-Za-z0-9_-]`. A server
/// replies with:
///
/// ```
/// ERR <errorCode> <message>
/// ```
///
/// Match on ``kind`` to tell errors apart:
///
/// ```swift
/// catch let error as ProtocolError where error.kind == .unterminatedQuote { ... }
/// ```
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The detailed cause; internal so that new causes never break callers.
    enum Code: Hashable, Sendable {
        case lineTooLong(limit: Int)
        case invalidUTF8
        case nulByte
        case controlCharacter(UInt8)
        case unterminatedQuote
        case invalidEscape
        case unexpectedQuote
        case missingSeparator
        case missingKey
        case emptyVerb
        case invalidVerb
        case tooManyArguments(limit: Int)
        case duplicateKey(String)
        case unknownVerb(String)
        case unknownSubverb(verb: String, subverb: String)
        case missingSubverb(verb: String, choices: [String])
        case wrongArity(synopsis: String)
        /// `key` is `nil` where the line may carry a password, which the key may be part of.
        case disallowedKey(key: String?, synopsis: String)
        case missingRequiredKey(key: String, synopsis: String)
        case invalidValue(key: String, expected: String, synopsis: String)
        case malformedReply(String)
        case tooManyRecords(limit: Int)
        case tooManyFields(limit: Int)
    }

    private let code: Code

    /// The 1-based byte offset in the line where the problem was found, when it has one.
    public let column: Int?

    init(_ code: Code, column: Int? = nil) {
        self.code = code
        self.column = column
    }

    // MARK: - Classification

    /// What kind of problem this is; compare with the static members of ``Kind``.
    public var kind: Kind {
        switch self.code {
        case .lineTooLong: .lineTooLong
        case .invalidUTF8: .invalidUTF8
        case .nulByte: .nulByte
        case .controlCharacter: .controlCharacter
        case .unterminatedQuote: .unterminatedQuote
        case .invalidEscape: .invalidEscape
        case .unexpectedQuote: .unexpectedQuote
        case .missingSeparator: .missingSeparator
        case .missingKey: .missingKey
        case .emptyVerb: .emptyVerb
        case .invalidVerb: .invalidVerb
        case .tooManyArguments: .tooManyArguments
        case .duplicateKey: .duplicateKey
        case .unknownVerb: .unknownVerb
        case .unknownSubverb: .unknownSubverb
        case .missingSubverb: .missingSubverb
        case .wrongArity: .wrongArity
        case .disallowedKey: .disallowedKey
        case .missingRequiredKey: .missingRequiredKey
        case .invalidValue: .invalidValue
        case .malformedReply: .malformedReply
        case .tooManyRecords: .tooManyRecords
        case .tooManyFields: .tooManyFields
        }
    }

    /// The wire error code to report this error with.
    ///
    /// Unknown verbs and subverbs map to `unknown`, exceeded limits to `limit`, everything else
    /// to `syntax`.
    public var errorCode: ErrorCode {
        switch self.code {
        case .unknownVerb, .unknownSubverb:
            .unknown
        case .lineTooLong, .tooManyArguments, .tooManyRecords, .tooManyFields:
            .limit
        case .invalidUTF8, .nulByte, .controlCharacter, .unterminatedQuote, .invalidEscape,
            .unexpectedQuote, .missingSeparator, .missingKey, .emptyVerb, .invalidVerb, .duplicateKey,
            .missingSubverb, .wrongArity, .disallowedKey, .missingRequiredKey, .invalidValue,
            .malformedReply:
            .syntax
        }
    }

    // MARK: - Messages

    /// A human-readable explanation that is safe to send to the peer and to log.
    ///
    /// Contains the column when there is one, for example
    /// `unterminated quoted string starting at column 6`.
    public var message: String {
        switch self.code {
        case .lineTooLong(let limit):
            return "line longer than \(limit) bytes"
        case .invalidUTF8:
            return "invalid UTF-8" + self.atColumn
        case .nulByte:
            return "NUL byte" + self.atColumn
        case .controlCharacter(let byte):
            return "control character 0x\(Self.hex(byte))" + self.atColumn
        case .unterminatedQuote:
            return "unterminated quoted string" + self.startingAtColumn
        case .invalidEscape:
            return "invalid escape sequence" + self.atColumn
                // No backslash in the text: a status line escapes it, and the escapes would
                // reach a person typing at openssl s_client doubled.
                + #"; after a backslash only ", backslash, n, r, t, 0 or xHH below 80 may follow"#
        case .unexpectedQuote:
            return "unexpected double quote inside a bare token" + self.atColumn
        case .missingSeparator:
            return "expected a space after the closing quote" + self.atColumn
        case .missingKey:
            return "named argument without a key" + self.atColumn
        case .emptyVerb:
            return "empty verb" + self.atColumn
        case .invalidVerb:
            return "the verb must be a bare alphanumeric word" + self.atColumn
        case .tooManyArguments(let limit):
            return "too many arguments (at most \(limit))" + self.atColumn
        case .duplicateKey(let key):
            return "duplicate named argument \(key)" + self.atColumn
        case .unknownVerb(let verb):
            if let verb = WireByte.echoable(verb) { return "unknown verb \(verb)" }
            return "unknown verb"
        case .unknownSubverb(let verb, let subverb):
            if let subverb = WireByte.echoable(subverb) { return "unknown \(verb) subverb \(subverb)" }
            return "unknown \(verb) subverb"
        case .missingSubverb(let verb, let choices):
            return "\(verb) needs one of " + choices.joined(separator: ", ")
        case .wrongArity(let synopsis):
            return "wrong number of arguments; usage: \(synopsis)"
        case .disallowedKey(let key?, let synopsis):
            return "named argument \(Self.truncatedKey(key)) is not allowed; usage: \(synopsis)"
        case .disallowedKey(nil, let synopsis):
            return "a named argument is not allowed here (quote a password that holds '='); usage: \(synopsis)"
        case .missingRequiredKey(let key, let synopsis):
            return "missing named argument \(key); usage: \(synopsis)"
        case .invalidValue(let key, let expected, let synopsis):
            return "\(key) must be \(expected); usage: \(synopsis)"
        case .malformedReply(let reason):
            return "malformed reply line: \(reason)" + self.atColumn
        case .tooManyRecords(let limit):
            return "too many records in one reply (at most \(limit))"
        case .tooManyFields(let limit):
            return "too many fields in one record (at most \(limit))" + self.atColumn
        }
    }

    /// The ``message``.
    public var description: String {
        self.message
    }

    private var atColumn: String {
        self.column.map { " at column \($0)" } ?? ""
    }

    private var startingAtColumn: String {
        self.column.map { " starting at column \($0)" } ?? ""
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    // Keys are limited to [A-Za-z0-9_-] by the grammar but not in length.
    private static func truncatedKey(_ key: String) -> String {
        key.utf8.count <= 64 ? key : String(key.prefix(64)) + "..."
    }
}
