/// Why a mail-server connection is closed: its input broke the protocol or a limit.
///
/// A struct around a code, so new codes don't break callers. The message names what was
/// wrong, never the bytes themselves, which may hold a password.
public struct MailAdapterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The input does not follow the protocol's grammar.
        public static let malformed = Code("malformed")
        /// A request is longer than the listener allows, or a count is over its bound.
        public static let overLimit = Code("over-limit")
        /// The client speaks a protocol version this server does not.
        public static let unsupportedVersion = Code("unsupported-version")

        public var description: String { rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence that says what was wrong.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func malformed(_ message: String) -> MailAdapterError { MailAdapterError(.malformed, message) }
    static func overLimit(_ message: String) -> MailAdapterError { MailAdapterError(.overLimit, message) }

    public var description: String { "\(code): \(message)" }
}
