import NIOCore

/// One packet to the MTA in the milter protocol.
public enum MilterReply: Hashable, Sendable {
    /// `O`: the version, actions and skipped steps this milter agrees to.
    case optionNegotiation(version: UInt32, actions: UInt32, steps: UInt32)
    /// `c`: go on with the next step.
    case `continue`
    /// `a`: accept the message without further milter steps.
    case accept
    /// `y`: refuse with this SMTP reply, for example `554 5.7.1 text`.
    case reply(code: String, text: String)
    /// `t`: refuse for now (4xx).
    case temporaryFailure
    /// `h`: add a header at the end of the headers.
    case addHeader(name: String, value: String)

    /// The actions (SMFIF_*) this milter asks for in option negotiation.
    public enum Actions {
        /// SMFIF_ADDHDRS: the milter may add headers.
        public static let addHeaders: UInt32 = 0x01
    }

    /// The steps (SMFIP_*) this milter asks the MTA to skip, or not to wait for a reply to.
    public enum Steps {
        /// SMFIP_NOCONNECT: no connection information.
        public static let noConnect: UInt32 = 0x01
        /// SMFIP_NOHELO: no HELO/EHLO.
        public static let noHelo: UInt32 = 0x02
        /// SMFIP_NORCPT: no RCPT TO.
        public static let noRecipient: UInt32 = 0x08
        /// SMFIP_NOBODY: no body chunks.
        public static let noBody: UInt32 = 0x10
        /// SMFIP_NR_HDR: no reply to each header.
        public static let noHeaderReply: UInt32 = 0x80
        /// SMFIP_NOUNKNOWN: no unknown SMTP commands.
        public static let noUnknown: UInt32 = 0x100
        /// SMFIP_NODATA: no DATA.
        public static let noData: UInt32 = 0x200
    }

    /// Appends the packet to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0), endianness: .big)
        switch self {
        case .optionNegotiation(let version, let actions, let steps):
            buffer.writeInteger(UInt8(ascii: "O"))
            buffer.writeInteger(version, endianness: .big)
            buffer.writeInteger(actions, endianness: .big)
            buffer.writeInteger(steps, endianness: .big)
        case .continue:
            buffer.writeInteger(UInt8(ascii: "c"))
        case .accept:
            buffer.writeInteger(UInt8(ascii: "a"))
        case .reply(let code, let text):
            buffer.writeInteger(UInt8(ascii: "y"))
            // The text goes into an SMTP reply line: no line ends, no NUL, and a `%` would be
            // read as a format directive by the MTA.
            buffer.writeString(code + " " + Self.safe(text))
            buffer.writeInteger(UInt8(0))
        case .temporaryFailure:
            buffer.writeInteger(UInt8(ascii: "t"))
        case .addHeader(let name, let value):
            buffer.writeInteger(UInt8(ascii: "h"))
            buffer.writeString(name)
            buffer.writeInteger(UInt8(0))
            buffer.writeString(Self.safe(value))
            buffer.writeInteger(UInt8(0))
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start, endianness: .big)
    }

    private static func safe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(400).map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7F || scalar == "%" ? "?" : scalar
        }))
    }
}
