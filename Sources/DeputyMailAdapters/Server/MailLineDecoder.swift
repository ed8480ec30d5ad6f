import DeputyServer
import NIOCore

/// Cuts LF-terminated lines off the front of a buffer, for the line-based mail-server
/// protocols (tcp_table, policy, Dovecot auth and dict).
///
/// A line is returned without its LF, and without a CR just before it. A parse has three
/// outcomes: a line, `nil` for "need more bytes" (the buffer is left untouched), or an
/// error as soon as more than ``maximumLength`` bytes arrive without a LF.
public struct MailLineDecoder: Sendable {
    /// The longest line accepted, without its terminator.
    public let maximumLength: Int
    // Bytes from the reader index already known to hold no LF, so a line arriving in many
    // small reads is scanned once.
    private var scanned = 0

    /// Creates a decoder for lines of up to `maximumLength` bytes.
    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// The line at the front of `buffer`, consumed with its terminator; `nil` when more
    /// bytes are needed.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(MailAdapterError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        scanned = min(scanned, view.count)
        guard let newline = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            // A line of exactly the maximum may still be waiting for its CR LF.
            guard view.count <= maximumLength + 1 else { throw .overLimit("a line is longer than \(maximumLength) bytes") }
            return nil
        }
        var length = newline - view.startIndex
        let terminator = 1
        if length > 0, view[newline - 1] == UInt8(ascii: "\r") { length -= 1 }
        guard length <= maximumLength else { throw .overLimit("a line is longer than \(maximumLength) bytes") }
        let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + terminator)
        scanned = 0
        return line
    }
}
