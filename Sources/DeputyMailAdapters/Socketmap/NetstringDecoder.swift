import DeputyServer
import NIOCore

/// Cuts netstrings (`<decimal length>:<bytes>,`) off the front of a buffer.
///
/// ```
/// 24:senders boss@example.org,   →  "senders boss@example.org"
/// ```
///
/// A parse has three outcomes: a payload, `nil` for "need more bytes" (the buffer is left
/// untouched), or an error for input that can never become valid, which also covers a
/// declared length over ``maximumLength``: that is refused as soon as the length is read,
/// without waiting for the bytes.
public struct NetstringDecoder: Sendable {
    /// The longest payload accepted.
    public let maximumLength: Int
    private let maximumDigits: Int

    /// Creates a decoder that accepts payloads of up to `maximumLength` bytes.
    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
        self.maximumDigits = String(max(maximumLength, 0)).count
    }

    /// The payload of the netstring at the front of `buffer`, consumed; `nil` when more
    /// bytes are needed.
    public func decode(_ buffer: inout ByteBuffer) throws(MailAdapterError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        var length = 0
        var digits = 0
        var index = view.startIndex
        // length = "0" / (%x31-39 *DIGIT)
        while true {
            guard index < view.endIndex else { return nil }
            let byte = view[index]
            if byte == UInt8(ascii: ":") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw .malformed("a netstring length holds a byte that is not a digit")
            }
            if digits == 1, length == 0 { throw .malformed("a netstring length has a leading zero") }
            digits += 1
            guard digits <= maximumDigits else { throw .overLimit("a netstring is longer than \(maximumLength) bytes") }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            index = view.index(after: index)
        }
        guard digits > 0 else { throw .malformed("a netstring has no length") }
        guard length <= maximumLength else { throw .overLimit("a netstring is longer than \(maximumLength) bytes") }
        let header = digits + 1
        guard view.count >= header + length + 1 else { return nil }
        guard view[view.startIndex + header + length] == UInt8(ascii: ",") else {
            throw .malformed("a netstring does not end with a comma")
        }
        buffer.moveReaderIndex(forwardBy: header)
        let payload = buffer.readSlice(length: length)
        buffer.moveReaderIndex(forwardBy: 1)
        return payload
    }

    /// Appends `payload` as a netstring to `buffer`.
    public static func encode(_ payload: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeString(String(payload.count))
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeBytes(payload)
        buffer.writeInteger(UInt8(ascii: ","))
    }
}
