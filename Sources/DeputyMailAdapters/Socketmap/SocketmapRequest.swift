/// A socketmap request: the payload `NAME KEY` of one netstring.
///
/// ```
/// senders Boss@Example.ORG   →  map "senders", key "Boss@Example.ORG"
/// ```
public struct SocketmapRequest: Hashable, Sendable {
    /// The map name, as sent.
    public let name: String
    /// The key, as sent (matched case-insensitively later).
    public let key: String

    /// Creates a request.
    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    /// Parses a payload; `nil` when it has no space after a name, or the name is not UTF-8.
    /// A key that is not UTF-8 is read with replacement characters: no address of the
    /// directory has them, so it is not found (smtpd takes 8-bit addresses even with
    /// `smtputf8_enable = no`, and an error would defer the mail instead).
    public init?(payload: some Collection<UInt8>) {
        let bytes = Array(payload)
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space > 0,
            let name = String(validating: bytes[..<space], as: UTF8.self)
        else { return nil }
        self.init(name: name, key: String(decoding: bytes[(space + 1)...], as: UTF8.self))
    }
}
