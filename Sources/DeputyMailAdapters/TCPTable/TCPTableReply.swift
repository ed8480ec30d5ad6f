import DeputyServer
import NIOCore

/// A tcp_table reply: one line with a status code and `%XX`-encoded text.
public enum TCPTableReply: Hashable, Sendable {
    /// `200 DATA`: found.
    case found(String)
    /// `500 TEXT`: not found (or a request that can't be served).
    case notFound(String)
    /// `400 TEXT`: a temporary failure; Postfix defers.
    case temporaryFailure(String)

    /// The line without its terminator, for example `200 boss@example.org`.
    public var line: String {
        switch self {
        case .found(let data): "200 \(TCPTableEncoding.encode(data))"
        case .notFound(let text): "500 \(TCPTableEncoding.encode(text))"
        case .temporaryFailure(let text): "400 \(TCPTableEncoding.encode(text))"
        }
    }

    /// Appends the line and its newline. A reply over the 4096 characters tcp_table allows
    /// becomes a temporary failure rather than a cut list, which would deny someone by mistake.
    public func encode(into buffer: inout ByteBuffer) {
        let line = self.line
        if line.utf8.count + 1 > MailAdapterDefaults.tcpTableMaximumReplyLength {
            TCPTableReply.temporaryFailure("reply too long").encode(into: &buffer)
            return
        }
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
