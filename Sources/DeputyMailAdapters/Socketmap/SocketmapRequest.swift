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

    /// Parses a payload; `nil` when it is not UTF-8 or has no space between name and key.
    public init?(payload: some Collection<UInt8>) {
        guard let text = String(validating: Array(payload), as: UTF8.self),
            let space = text.firstIndex(of: " ")
        else { return nil }
        let name = text[..<space]
        guard !name.isEmpty else { return nil }
        self.init(name: String(name), key: String(text[text.index(after: space)...]))
    }
}
