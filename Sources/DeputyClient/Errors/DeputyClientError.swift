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
/// descriptions of transport errors; they never quote request arguments, so a password
/// passed to ``DeputyConnection/bind(login:password:)`` can never appear in one.
public struct DeputyClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for matching.
    public let code: Code

    /// A human-readable explanation, safe to show and to log.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The ``message``.
    public var description: String {
        self.message
    }
}
