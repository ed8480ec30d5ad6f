/// tcp_table's `%XX` encoding, used for keys and values in both directions.
///
/// `%`, whitespace and every byte that is not printable ASCII are written as `%` and two
/// uppercase hex digits; everything else stands for itself. Decoding accepts either case
/// of hex digit.
///
/// ```
/// encode("a b%c") == "a%20b%25c"
/// decode("a%20b%25c") == "a b%c"
/// ```
public enum TCPTableEncoding {
    /// Encodes `text`'s UTF-8 bytes.
    public static func encode(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                result.append(byte)
            } else {
                result.append(UInt8(ascii: "%"))
                result.append(hexDigit(byte >> 4))
                result.append(hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Decodes `encoded`; `nil` when a `%` is not followed by two hex digits, or the bytes
    /// are not UTF-8.
    public static func decode(_ encoded: some Collection<UInt8>) -> String? {
        var result: [UInt8] = []
        result.reserveCapacity(encoded.count)
        var iterator = encoded.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                result.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            result.append(high << 4 | low)
        }
        return String(validating: result, as: UTF8.self)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
