/// A failure of the client itself: the connection could not be made, trusted or kept, or a
/// reply broke the protocol.
///
/// A server's `ERR` reply is not a `DeputyClientError`: it arrives as a ``Reply`` whose status
/// is `.error`. Match on ``code`` to tell failures apart; ``message`` is for people.
///
/// ```swift
/// do {
///     let connection = try await DeputyConnection.connect(to: endpoint, configuration: configuration)
/// } catch let error as DeputyClientError where error.code == .fingerprintMismatch {
///     print(error.message)
/// }
/// ```
///
/// Messages are built only from the endpoint, file paths, fingerprints, verbs and
/// descriptions of transport errors, in plain words; the transport's own description, when
/// there is one, is in ``detail``. Neither quotes request arguments, so a password passed to
/// ``DeputyConnection/bind(login:password:)`` can never appear in one.
public struct DeputyClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for matching.
    public let code: Code

    /// A human-readable explanation, safe to show and to log.
    public let message: String

    /// The underlying library's or system's own account of the failure (a TLS library
    /// error, a socket error), for a verbose display; `nil` when ``message`` says it all.
    /// Like the message, it never holds a request argument.
    public let detail: String?

    init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    /// The ``message``.
    public var description: String {
        self.message
    }
}
