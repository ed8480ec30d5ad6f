/// A stable, lowercase error code sent on an `ERR` status line.
///
/// ```
/// ERR notfound no such user
/// ```
///
/// Modelled as a struct rather than an enum so that a peer meeting a code introduced by a newer
/// version still parses the line, and adding a code does not break exhaustive `switch`es.
public struct ErrorCode: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    /// The code as written on the wire, for example `notfound`.
    public let rawValue: String

    /// Longest code accepted from the wire.
    static let maximumLength = 32

    /// Creates a code from its wire form.
    ///
    /// Returns `nil` unless `rawValue` is a lowercase ASCII word (`[a-z][a-z0-9]*`, at most 32
    /// characters). Codes that are well-formed but not among the known ones are accepted.
    public init?(rawValue: String) {
        let bytes = rawValue.utf8
        guard let first = bytes.first, bytes.count <= Self.maximumLength, WireByte.isLowercaseLetter(first),
            bytes.allSatisfy({ WireByte.isLowercaseLetter($0) || WireByte.isDigit($0) })
        else {
            return nil
        }
        self.rawValue = rawValue
    }

    private init(known rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire form, for example `notfound`.
    public var description: String {
        self.rawValue
    }

    // MARK: - Known codes

    /// The request line is malformed or does not match the verb's synopsis.
    public static let syntax = ErrorCode(known: "syntax")
    /// The verb or subverb is not part of the protocol.
    public static let unknown = ErrorCode(known: "unknown")
    /// Authentication failed, or the verb needs an authenticated session.
    public static let auth = ErrorCode(known: "auth")
    /// The authenticated identity is not permitted to do this.
    public static let denied = ErrorCode(known: "denied")
    /// The operation needs a recent re-authentication with `REAUTH`.
    public static let reauth = ErrorCode(known: "reauth")
    /// The named entry does not exist.
    public static let notfound = ErrorCode(known: "notfound")
    /// An entry with that name already exists.
    public static let exists = ErrorCode(known: "exists")
    /// The change conflicts with the current state of the directory.
    public static let conflict = ErrorCode(known: "conflict")
    /// A value is well-formed but not acceptable.
    public static let invalid = ErrorCode(known: "invalid")
    /// An organisation policy refuses the operation.
    public static let policy = ErrorCode(known: "policy")
    /// A size, count or rate limit was exceeded.
    public static let limit = ErrorCode(known: "limit")
    /// The directory store failed.
    public static let storage = ErrorCode(known: "storage")
    /// An unexpected server error occurred.
    public static let `internal` = ErrorCode(known: "internal")
    /// The service is temporarily unavailable.
    public static let unavailable = ErrorCode(known: "unavailable")

    /// Every code defined by this version of the protocol, in documentation order.
    public static let allKnown: [ErrorCode] = [
        .syntax, .unknown, .auth, .denied, .reauth, .notfound, .exists,
        .conflict, .invalid, .policy, .limit, .storage, .internal, .unavailable,
    ]

    /// A one-line description of the code, for documentation and `HELP`-style listings.
    public var summary: String {
        switch self.rawValue {
        case "syntax": "the request line is malformed or does not match the verb's synopsis"
        case "unknown": "the verb or subverb is not part of the protocol"
        case "auth": "authentication failed, or the verb needs an authenticated session"
        case "denied": "the authenticated identity is not permitted to do this"
        case "reauth": "the operation needs a recent re-authentication with REAUTH"
        case "notfound": "the named entry does not exist"
        case "exists": "an entry with that name already exists"
        case "conflict": "the change conflicts with the current state of the directory"
        case "invalid": "a value is well-formed but not acceptable"
        case "policy": "an organisation policy refuses the operation"
        case "limit": "a size, count or rate limit was exceeded"
        case "storage": "the directory store failed"
        case "internal": "an unexpected server error occurred"
        case "unavailable": "the service is temporarily unavailable"
        default: "an error code not known to this version of the protocol"
        }
    }
}
