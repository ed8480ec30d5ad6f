/// One packet from the MTA in the milter protocol (Sendmail's libmilter protocol, version
/// 2 to 6, as Postfix speaks it for `smtpd_milters`), parsed into what this server uses.
///
/// A packet is a 4-byte big-endian length (counting the command byte), the command byte,
/// and its data. Strings are NUL-terminated.
///
/// ```
/// 00 00 00 0d 'O' 00 00 00 06 00 00 01 ff 00 1f ff ff     option negotiation
/// 00 00 00 1c 'L' "From" 00 "Alice <alice@example.test>" 00   one header
/// ```
public enum MilterCommand: Hashable, Sendable {
    /// `O`: the MTA's protocol version, the actions it allows and the steps it may skip.
    case optionNegotiation(version: UInt32, actions: UInt32, steps: UInt32)
    /// `D`: macros for the stage named by `stage` (a command byte), as name and value.
    case macros(stage: UInt8, [MilterMacro])
    /// `C`: the client's connection (unused here beyond the reply).
    case connect
    /// `H`: HELO/EHLO (unused here beyond the reply).
    case helo
    /// `M`: MAIL FROM, the sender first, then ESMTP arguments.
    case mail(arguments: [String])
    /// `R`: RCPT TO.
    case recipient(arguments: [String])
    /// `T`: DATA.
    case data
    /// `L`: one header, its name and value (folded lines joined by the MTA's line ends).
    case header(name: String, value: String)
    /// `N`: the end of the headers.
    case endOfHeaders
    /// `B`: a chunk of the body (its bytes are not kept).
    case body
    /// `E`: the end of the message: the milter now answers for the whole message.
    case endOfMessage
    /// `A`: the current message is abandoned; the connection goes on.
    case abort
    /// `Q`: the MTA closes the conversation.
    case quit
    /// `K`: the MTA ends this SMTP connection's conversation and will start another on
    /// the same milter connection.
    case quitNewConnection
    /// `U`: an SMTP command the MTA did not recognise.
    case unknown
}

/// One macro (`{auth_authen}`, `i`, ...) and its value.
public struct MilterMacro: Hashable, Sendable {
    /// The name as the MTA sent it, with or without braces: `{auth_authen}`, `i`.
    public let name: String
    /// The value.
    public let value: String

    /// Creates a macro.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The name without the braces of long macro names: `auth_authen`, `i`.
    public var bareName: Substring {
        if name.hasPrefix("{"), name.hasSuffix("}"), name.count >= 2 { return name.dropFirst().dropLast() }
        return Substring(name)
    }
}
