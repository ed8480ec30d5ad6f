import NIOCore

/// Splits an inbound byte stream into lines, for requests on the server and replies on the client.
///
/// Each output is the line without its terminator: a line ends at LF, and a CR just before the
/// LF is dropped too. A line longer than the maximum throws ``ProtocolError`` of kind
/// ``ProtocolError/Kind/lineTooLong`` as soon as the excess is seen, so at most about the
/// maximum plus one read of data is ever buffered; the channel should then be closed, as a
/// `ByteToMessageHandler` does not decode again after an error. At end of input, a final line
/// without a terminator is discarded rather than delivered.
///
/// The maximum can be fixed at creation or shared through a ``LineLengthLimit`` so that it can
/// change while the channel is open:
///
/// ```swift
/// ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 8_192))
/// ByteToMessageHandler(LineFrameDecoder(limit: sharedLimit))
/// ```
public struct LineFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// A line without its terminator.
    public typealias InboundOut = ByteBuffer

    private enum Source {
        case fixed(Int)
        case shared(LineLengthLimit)
    }

    private var source: Source

    // Bytes from the reader index already known to hold no LF, so that a line arriving in
    // many small reads is scanned once rather than once per read.
    private var scannedLength = 0

    /// Creates a decoder with its own limit.
    ///
    /// - Precondition: `maximumLineLength` is positive.
    public init(maximumLineLength: Int) {
        precondition(maximumLineLength > 0, "the maximum line length must be positive")
        self.source = .fixed(maximumLineLength)
    }

    /// Creates a decoder that reads its limit from `limit` on every decode.
    public init(limit: LineLengthLimit) {
        self.source = .shared(limit)
    }

    /// The longest accepted line, in bytes without its terminator.
    ///
    /// Setting it on a decoder created with a ``LineLengthLimit`` updates the shared limit.
    public var maximumLineLength: Int {
        get {
            switch self.source {
            case .fixed(let value): value
            case .shared(let limit): limit.maximumLineLength
            }
        }
        set {
            precondition(newValue > 0, "the maximum line length must be positive")
            switch self.source {
            case .fixed: self.source = .fixed(newValue)
            case .shared(let limit): limit.maximumLineLength = newValue
            }
        }
    }

    // MARK: - Decoding

    /// Returns the next complete line, or `nil` if more bytes are needed.
    ///
    /// - Throws: ``ProtocolError`` of kind ``ProtocolError/Kind/lineTooLong``.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let limit = self.maximumLineLength
        let readable = buffer.readableBytes
        // A line of exactly `limit` bytes plus CRLF is the most that ever needs to be looked at.
        let window = limit < readable - 2 ? limit + 2 : readable
        // Only a caller that consumed bytes itself could make this shrink; never index past them.
        self.scannedLength = min(self.scannedLength, readable)

        if self.scannedLength < window {
            let found: Int? = buffer.withUnsafeReadableBytes { bytes in
                bytes[self.scannedLength..<window].firstIndex(of: WireByte.lineFeed)
            }
            if let lineFeedOffset = found {
                self.scannedLength = 0
                return try Self.readLine(from: &buffer, lineFeedOffset: lineFeedOffset, limit: limit)
            }
            self.scannedLength = window
        }

        // No LF yet. Everything scanned is line content, except a final CR that may turn out
        // to precede an LF.
        var contentLength = self.scannedLength
        if contentLength > 0,
            buffer.getInteger(at: buffer.readerIndex + contentLength - 1, as: UInt8.self) == WireByte.carriageReturn
        {
            contentLength -= 1
        }
        if contentLength > limit {
            throw ProtocolError(.lineTooLong(limit: limit))
        }
        return nil
    }

    /// Delivers remaining complete lines, then discards a final unterminated line at EOF.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let line = try self.decode(buffer: &buffer) {
            return line
        }
        if seenEOF {
            // A peer that closes mid-line has not sent a request; acting on a truncated one
            // could do something the peer never asked for.
            buffer.moveReaderIndex(to: buffer.writerIndex)
            self.scannedLength = 0
        }
        return nil
    }

    private static func readLine(
        from buffer: inout ByteBuffer,
        lineFeedOffset: Int,
        limit: Int
    ) throws(ProtocolError) -> ByteBuffer {
        var contentLength = lineFeedOffset
        if contentLength > 0,
            buffer.getInteger(at: buffer.readerIndex + contentLength - 1, as: UInt8.self) == WireByte.carriageReturn
        {
            contentLength -= 1
        }
        guard contentLength <= limit else {
            throw ProtocolError(.lineTooLong(limit: limit))
        }
        let line = buffer.readSlice(length: contentLength)!
        buffer.moveReaderIndex(forwardBy: lineFeedOffset + 1 - contentLength)
        return line
    }
}
