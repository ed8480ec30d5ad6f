/// A tcp_table request: one line, its key (and value) `%XX`-encoded.
public enum TCPTableRequest: Hashable, Sendable {
    /// `get KEY`: look a key up.
    case get(key: String)
    /// `put KEY VALUE`: change a value. Part of tcp_table(5), and always refused here.
    case put(key: String, value: String)

    /// Parses a line without its terminator; `nil` for an unknown verb, a missing key or a
    /// bad `%XX` escape.
    public init?(line: some Collection<UInt8>) {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2, let key = TCPTableEncoding.decode(fields[1]) else { return nil }
        switch String(decoding: fields[0], as: UTF8.self) {
        case "get" where fields.count == 2:
            self = .get(key: key)
        case "put" where fields.count == 3:
            guard let value = TCPTableEncoding.decode(fields[2]) else { return nil }
            self = .put(key: key, value: value)
        default:
            return nil
        }
    }
}
