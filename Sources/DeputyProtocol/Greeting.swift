/// The line a server sends when a connection opens.
///
/// ```
/// OK deputyd 1.4.0 ready
/// ```
public struct Greeting: Hashable, Sendable {
    /// The server version, a bare token such as `1.4.0`.
    public let version: String

    /// Creates a greeting, or returns `nil` if `version` is empty or contains a space, a double
    /// quote, a backslash or a control character.
    public init?(version: String) {
        var copy = version
        let isBare = copy.withUTF8 { WireEscaping.isBareValue($0) }
        guard isBare else { return nil }
        self.version = version
    }

    /// Recognises a greeting status, or returns `nil` if `status` is not one.
    public init?(_ status: ReplyStatus) {
        guard case .ok(let text?) = status else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 3, words[0] == "deputyd", words[2] == "ready" else { return nil }
        self.init(version: String(words[1]))
    }

    /// The status line to send, `OK deputyd <version> ready`.
    public var status: ReplyStatus {
        .ok(text: "deputyd \(self.version) ready")
    }
}
