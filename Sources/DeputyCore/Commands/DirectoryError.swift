/// Why the directory refused a command.
///
/// A struct around a code, so new codes don't break callers. The message is safe to show
/// to the actor: it never contains a password or a hash.
public struct DirectoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of refusal.
    public struct Code: Hashable, Sendable, RawRepresentable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The actor has no right to do this; ``DirectoryError/rule`` says which rule refused.
        public static let denied = Code(rawValue: "denied")
        /// An entry named by the command does not exist.
        public static let notFound = Code(rawValue: "notfound")
        /// An entry with that address or name exists already.
        public static let exists = Code(rawValue: "exists")
        /// The command contradicts the directory's state (for example, removing the last domain in use).
        public static let conflict = Code(rawValue: "conflict")
        /// The input is malformed or out of range.
        public static let invalid = Code(rawValue: "invalid")
        /// An email policy forbids it.
        public static let policy = Code(rawValue: "policy")
        /// The actor must re-authenticate first.
        public static let reauthenticationRequired = Code(rawValue: "reauth")

        public var description: String { rawValue }
    }

    /// The kind of refusal.
    public let code: Code
    /// The rule that refused, for `denied`, `policy` and `reauth`.
    public let rule: Rule?
    /// A sentence that says why.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, rule: Rule? = nil, _ message: String) {
        self.code = code
        self.rule = rule
        self.message = message
    }

    static func denied(_ rule: Rule, _ message: String) -> DirectoryError {
        DirectoryError(.denied, rule: rule, message)
    }

    static func notFound(_ message: String) -> DirectoryError {
        DirectoryError(.notFound, message)
    }

    static func invalid(_ message: String) -> DirectoryError {
        DirectoryError(.invalid, message)
    }

    public var description: String {
        if let rule { return "\(code) [\(rule.rawValue)] \(message)" }
        return "\(code) \(message)"
    }
}
