/// A line length limit shared between a ``LineFrameDecoder`` and the code that changes it, such
/// as the session handler that raises it after a successful `BIND`.
///
/// Like the channel handlers that share it, a limit belongs to one channel's event loop and is
/// deliberately not `Sendable`: create it in the channel initialiser and hand it to the decoder
/// and to the handler that changes it.
///
/// ```swift
/// let limit = LineLengthLimit(ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication)
/// try channel.pipeline.syncOperations.addHandlers(
///     ByteToMessageHandler(LineFrameDecoder(limit: limit)),
///     SessionHandler(lineLengthLimit: limit)
/// )
/// // in SessionHandler, after BIND succeeds:
/// self.lineLengthLimit.maximumLineLength = ProtocolLimits.defaultMaximumLineLengthAfterAuthentication
/// ```
///
/// Code running off the loop (an async request loop, say) wraps it in `NIOLoopBound` and
/// changes it inside `eventLoop.execute`.
public final class LineLengthLimit {
    /// The longest accepted line, in bytes without its terminator.
    ///
    /// A change applies to bytes decoded after it, including those of a line already partly
    /// received; lines already delivered are not re-checked.
    ///
    /// - Precondition: a new value is positive.
    public var maximumLineLength: Int {
        didSet {
            precondition(self.maximumLineLength > 0, "the maximum line length must be positive")
        }
    }

    /// Creates a limit.
    ///
    /// - Precondition: `maximumLineLength` is positive.
    public init(_ maximumLineLength: Int) {
        precondition(maximumLineLength > 0, "the maximum line length must be positive")
        self.maximumLineLength = maximumLineLength
    }
}

@available(*, unavailable)
extension LineLengthLimit: Sendable {}
