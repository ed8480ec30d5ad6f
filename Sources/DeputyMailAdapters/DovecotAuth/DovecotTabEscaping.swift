/// Dovecot's tab escaping, used by its auth and dict protocols: `\001` is the escape byte,
/// and the byte after it says what it stands for.
///
/// | escaped | byte |
/// |---|---|
/// | `\0010` | NUL |
/// | `\0011` | `\001` |
/// | `\001t` | TAB |
/// | `\001r` | CR |
/// | `\001n` | LF |
///
/// Any other byte after `\001` stands for itself, as Dovecot reads it.
public enum DovecotTabEscaping {
    private static let escape: UInt8 = 0x01

    /// Escapes `text` so that it fits in one field of one line.
    public static func escape(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x00: result += [escape, UInt8(ascii: "0")]
            case escape: result += [escape, UInt8(ascii: "1")]
            case UInt8(ascii: "\t"): result += [escape, UInt8(ascii: "t")]
            case UInt8(ascii: "\r"): result += [escape, UInt8(ascii: "r")]
            case UInt8(ascii: "\n"): result += [escape, UInt8(ascii: "n")]
            default: result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Unescapes one field; a lone `\001` at the end is dropped.
    public static func unescape(_ field: some Collection<UInt8>) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(field.count)
        var iterator = field.makeIterator()
        while let byte = iterator.next() {
            guard byte == escape else {
                result.append(byte)
                continue
            }
            switch iterator.next() {
            case UInt8(ascii: "0"): result.append(0x00)
            case UInt8(ascii: "1"): result.append(escape)
            case UInt8(ascii: "t"): result.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): result.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "n"): result.append(UInt8(ascii: "\n"))
            case let other?: result.append(other)
            case nil: break
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Splits a line at its tabs and unescapes each field.
    public static func fields(of line: some Collection<UInt8>) -> [String] {
        line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { unescape($0) }
    }

    /// Escapes each field and joins them with tabs.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: "\t")
    }
}
