/// Lines and columns in a text, for messages that point into a configuration file (deputyd's
/// configuration, deputy's profile): `deputyd.json:3:7: ...`.
public enum TextPosition {
    /// The line and column, both from 1, of the byte at `offset` of `text`'s UTF-8.
    public static func of(utf8Offset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// The position a JSON parser's message points at with "character N" (Foundation counts
    /// UTF-16 units), or `nil` when it names none.
    public static func of(parserMessage message: String, in text: String) -> (line: Int, column: Int)? {
        guard let mention = message.firstRange(of: "character ") else { return nil }
        guard let units = Int(String(message[mention.upperBound...].prefix { $0.isNumber })) else { return nil }
        let index = text.utf16.index(text.startIndex, offsetBy: min(units, text.utf16.count))
        return of(utf8Offset: text.utf8.distance(from: text.startIndex, to: index), in: text)
    }
}
