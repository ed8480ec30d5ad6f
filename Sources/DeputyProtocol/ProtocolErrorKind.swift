extension ProtocolError {
    /// The kind of a ``ProtocolError``, for matching without depending on its details.
    ///
    /// A struct with static members rather than a public enum, so that new kinds can be added
    /// without breaking exhaustive `switch`es in callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case lineTooLong, invalidUTF8, nulByte, controlCharacter, unterminatedQuote, invalidEscape
            case unexpectedQuote, missingSeparator, missingKey, emptyVerb, invalidVerb, tooManyArguments
            case duplicateKey, unknownVerb, unknownSubverb, missingSubverb, wrongArity, disallowedKey
            case missingRequiredKey, invalidValue, malformedReply, tooManyRecords, tooManyFields
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The name of the kind, for logs.
        public var description: String {
            self.base.rawValue
        }

        // MARK: - Framing

        /// A line is longer than the configured maximum.
        public static let lineTooLong = Kind(.lineTooLong)

        // MARK: - Lexical

        /// The line is not well-formed UTF-8.
        public static let invalidUTF8 = Kind(.invalidUTF8)
        /// The line contains a NUL byte.
        public static let nulByte = Kind(.nulByte)
        /// The line contains a control character where none is allowed.
        public static let controlCharacter = Kind(.controlCharacter)
        /// A quoted string is not closed before the end of the line.
        public static let unterminatedQuote = Kind(.unterminatedQuote)
        /// A backslash escape is not one of `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, `\xHH`.
        public static let invalidEscape = Kind(.invalidEscape)
        /// A double quote appears inside a bare token, as in `ab"c`.
        public static let unexpectedQuote = Kind(.unexpectedQuote)
        /// A closing quote is followed by something other than a separator, as in `"a"b`.
        public static let missingSeparator = Kind(.missingSeparator)
        /// A token starts with `=`, as in `=value`.
        public static let missingKey = Kind(.missingKey)

        // MARK: - RequestLine structure

        /// The verb is an empty quoted string.
        public static let emptyVerb = Kind(.emptyVerb)
        /// The verb is not a bare alphanumeric word.
        public static let invalidVerb = Kind(.invalidVerb)
        /// The request has more arguments than allowed.
        public static let tooManyArguments = Kind(.tooManyArguments)
        /// The same named-argument key appears twice.
        public static let duplicateKey = Kind(.duplicateKey)

        // MARK: - Verb syntax

        /// The verb is not part of the protocol.
        public static let unknownVerb = Kind(.unknownVerb)
        /// The subverb is not defined for the verb.
        public static let unknownSubverb = Kind(.unknownSubverb)
        /// A verb that takes a subverb was sent without one.
        public static let missingSubverb = Kind(.missingSubverb)
        /// The number of positional arguments does not match the synopsis.
        public static let wrongArity = Kind(.wrongArity)
        /// A named argument is not allowed for the verb.
        public static let disallowedKey = Kind(.disallowedKey)
        /// A required named argument is missing.
        public static let missingRequiredKey = Kind(.missingRequiredKey)
        /// A named argument's value is not one of the allowed forms.
        public static let invalidValue = Kind(.invalidValue)

        // MARK: - Replies

        /// A reply line does not follow the reply grammar.
        public static let malformedReply = Kind(.malformedReply)
        /// A reply has more data records than allowed.
        public static let tooManyRecords = Kind(.tooManyRecords)
        /// A data record has more fields than allowed.
        public static let tooManyFields = Kind(.tooManyFields)
    }
}
