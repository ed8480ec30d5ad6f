import NIOCore

/// Cuts milter packets off the front of a buffer and parses them.
///
/// A parse has three outcomes: a command, `nil` for "need more bytes" (the buffer is left
/// untouched), or an error for input that can never become valid: a length of zero, a
/// length over ``maximumLength`` (refused as soon as the length is read), an unknown
/// command byte, or data that does not fit the command.
public struct MilterPacketDecoder: Sendable {
    /// The smallest limit a milter listener uses whatever its request limit says: Postfix
    /// passes headers of up to `header_size_limit` (102400 bytes by default) whole, and a
    /// message must not fail because one header is long.
    public static let minimumPacketLimit = 131_072

    /// The longest packet accepted, command byte included.
    public let maximumLength: Int

    /// Creates a decoder that accepts packets of up to `maximumLength` bytes.
    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// The command at the front of `buffer`, consumed; `nil` when more bytes are needed.
    public func decode(_ buffer: inout ByteBuffer) throws(MailAdapterError) -> MilterCommand? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else { return nil }
        guard length > 0 else { throw .malformed("a milter packet has length zero") }
        guard length <= UInt32(clamping: maximumLength) else { throw .overLimit("a milter packet is longer than \(maximumLength) bytes") }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var packet = buffer.readSlice(length: Int(length))!
        let command = packet.readInteger(as: UInt8.self)!
        return try Self.parse(command, data: &packet)
    }

    private static func parse(_ command: UInt8, data: inout ByteBuffer) throws(MailAdapterError) -> MilterCommand {
        switch command {
        case UInt8(ascii: "O"):
            guard data.readableBytes >= 12,
                  let version = data.readInteger(endianness: .big, as: UInt32.self),
                  let actions = data.readInteger(endianness: .big, as: UInt32.self),
                  let steps = data.readInteger(endianness: .big, as: UInt32.self)
            else { throw .malformed("a milter option negotiation is shorter than 13 bytes") }
            return .optionNegotiation(version: version, actions: actions, steps: steps)
        case UInt8(ascii: "D"):
            guard let stage = data.readInteger(as: UInt8.self) else { throw .malformed("a milter macro packet names no stage") }
            let strings = try strings(in: &data)
            guard strings.count % 2 == 0 else { throw .malformed("a milter macro packet has a name without a value") }
            var macros: [MilterMacro] = []
            macros.reserveCapacity(strings.count / 2)
            for index in stride(from: 0, to: strings.count, by: 2) {
                macros.append(MilterMacro(name: strings[index], value: strings[index + 1]))
            }
            return .macros(stage: stage, macros)
        case UInt8(ascii: "C"): return .connect
        case UInt8(ascii: "H"): return .helo
        case UInt8(ascii: "M"): return .mail(arguments: try strings(in: &data))
        case UInt8(ascii: "R"): return .recipient(arguments: try strings(in: &data))
        case UInt8(ascii: "T"): return .data
        case UInt8(ascii: "L"):
            let fields = try strings(in: &data)
            guard fields.count == 2 else { throw .malformed("a milter header packet holds \(fields.count) strings, not a name and a value") }
            return .header(name: fields[0], value: fields[1])
        case UInt8(ascii: "N"): return .endOfHeaders
        case UInt8(ascii: "B"): return .body
        case UInt8(ascii: "E"): return .endOfMessage
        case UInt8(ascii: "A"): return .abort
        case UInt8(ascii: "Q"): return .quit
        case UInt8(ascii: "K"): return .quitNewConnection
        case UInt8(ascii: "U"): return .unknown
        default: throw .malformed("unknown milter command byte \(command)")
        }
    }

    /// The NUL-terminated strings filling `data`; every one must be terminated.
    private static func strings(in data: inout ByteBuffer) throws(MailAdapterError) -> [String] {
        var result: [String] = []
        while data.readableBytes > 0 {
            guard let end = data.readableBytesView.firstIndex(of: 0) else { throw .malformed("a milter string is not terminated") }
            let length = end - data.readerIndex
            // Header values may hold any byte; bytes that are not UTF-8 are replaced, which
            // can't turn a foreign address into an owned one.
            result.append(String(decoding: data.readableBytesView.prefix(length), as: UTF8.self))
            data.moveReaderIndex(forwardBy: length + 1)
        }
        return result
    }
}
