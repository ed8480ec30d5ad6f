/// Size and count limits of the Deputy line protocol, kept in one place.
///
/// Every limit has a named default constant and a stored property initialised from it, so a
/// server or client can tighten or relax a limit through configuration without the defaults
/// drifting apart between components.
///
/// ```swift
/// var limits = ProtocolLimits()
/// limits.maximumRecordsPerReply = 50_000
/// let parser = RequestParser(limits: limits)
/// ```
public struct ProtocolLimits: Hashable, Sendable {
    // MARK: - Default values

    /// Default longest request line, in bytes without its terminator, before a successful `BIND`.
    ///
    /// Kept small so that an unauthenticated peer cannot make the server buffer much data.
    public static let defaultMaximumLineLengthBeforeAuthentication = 8_192

    /// Default longest request line, in bytes without its terminator, after a successful `BIND`.
    ///
    /// Large enough for `MODIFY ORG logo=<...>` and long member lists.
    public static let defaultMaximumLineLengthAfterAuthentication = 65_536

    /// Default largest number of arguments (positional and named together) in one request.
    public static let defaultMaximumArgumentsPerRequest = 256

    /// Default largest number of requests a peer may pipeline before the server stops reading.
    public static let defaultMaximumPendingRequests = 1_024

    /// Default largest number of data records (`* ...` lines) in one reply.
    public static let defaultMaximumRecordsPerReply = 10_000

    /// Default largest number of `key=value` fields in one data record: as many as a reply
    /// line of the longest length holds, so the line's length is the bound. A group's entry
    /// has a `member=` for every member, and groups of thousands are ordinary.
    public static let defaultMaximumFieldsPerRecord = 262_144

    /// Default longest reply line, in bytes without its terminator, that a client accepts.
    public static let defaultMaximumReplyLineLength = 1_048_576

    /// The limits with every value at its default.
    public static let `default` = ProtocolLimits()

    // MARK: - Configured values

    /// Longest request line, in bytes without its terminator, accepted before authentication.
    public var maximumLineLengthBeforeAuthentication: Int

    /// Longest request line, in bytes without its terminator, accepted after authentication.
    public var maximumLineLengthAfterAuthentication: Int

    /// Largest number of arguments (positional and named together) in one request.
    public var maximumArgumentsPerRequest: Int

    /// Largest number of pipelined requests a server keeps pending per connection.
    public var maximumPendingRequests: Int

    /// Largest number of data records in one reply.
    public var maximumRecordsPerReply: Int

    /// Largest number of fields in one data record.
    public var maximumFieldsPerRecord: Int

    /// Longest reply line, in bytes without its terminator, that a client accepts.
    public var maximumReplyLineLength: Int

    /// Creates a set of limits; every parameter defaults to the matching `default...` constant.
    public init(
        maximumLineLengthBeforeAuthentication: Int = Self.defaultMaximumLineLengthBeforeAuthentication,
        maximumLineLengthAfterAuthentication: Int = Self.defaultMaximumLineLengthAfterAuthentication,
        maximumArgumentsPerRequest: Int = Self.defaultMaximumArgumentsPerRequest,
        maximumPendingRequests: Int = Self.defaultMaximumPendingRequests,
        maximumRecordsPerReply: Int = Self.defaultMaximumRecordsPerReply,
        maximumFieldsPerRecord: Int = Self.defaultMaximumFieldsPerRecord,
        maximumReplyLineLength: Int = Self.defaultMaximumReplyLineLength
    ) {
        self.maximumLineLengthBeforeAuthentication = maximumLineLengthBeforeAuthentication
        self.maximumLineLengthAfterAuthentication = maximumLineLengthAfterAuthentication
        self.maximumArgumentsPerRequest = maximumArgumentsPerRequest
        self.maximumPendingRequests = maximumPendingRequests
        self.maximumRecordsPerReply = maximumRecordsPerReply
        self.maximumFieldsPerRecord = maximumFieldsPerRecord
        self.maximumReplyLineLength = maximumReplyLineLength
    }

    /// The request line length limit for a session in the given authentication state.
    public func maximumLineLength(authenticated: Bool) -> Int {
        authenticated ? self.maximumLineLengthAfterAuthentication : self.maximumLineLengthBeforeAuthentication
    }
}
