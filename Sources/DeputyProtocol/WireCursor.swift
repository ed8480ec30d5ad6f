import DeputyCore
import Foundation

/// Writes wire bytes into memory reserved for them: the one place values are escaped.
///
/// A caller reserves a bound once (``WireEscaping/bound(of:)`` for each value) and writes
/// with plain copies; writing piece by piece into a `ByteBuffer` checked its capacity and
/// uniqueness for every separator, key and value, a quarter of a `QUERY DELEGATES`
/// answer's time. Each write still checks the reserved length (one comparison), so that a
/// wrong bound stops the process rather than writing past the reservation.
struct WireCursor {
    private let base: UnsafeMutableRawPointer
    private let limit: Int
    /// The bytes written so far.
    private(set) var offset = 0

    init(_ output: UnsafeMutableRawBufferPointer) {
        base = output.baseAddress!
        limit = output.count
    }

    mutating func put(_ byte: UInt8) {
        precondition(offset < limit, "wire bytes outgrew their reserved bound")
        base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(offset + bytes.count <= limit, "wire bytes outgrew their reserved bound")
        guard let source = bytes.baseAddress else { return }
        (base + offset).copyMemory(from: source, byteCount: bytes.count)
        offset += bytes.count
    }

    mutating func put(_ string: String) {
        var string = string
        string.withUTF8 { put($0) }
    }

    /// `value` bare if ``WireEscaping/isBareValue(_:)`` allows it, else quoted.
    mutating func putValue(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            if WireEscaping.isBareValue(bytes) { put(bytes) } else { putQuoted(bytes) }
        }
    }

    /// `date` as ``DeputyCore/Timestamp/format(_:)`` writes it: a bare value of
    /// ``DeputyCore/Timestamp/length`` bytes.
    mutating func putTimestamp(_ date: Date) {
        precondition(offset + Timestamp.length <= limit, "wire bytes outgrew their reserved bound")
        offset += Timestamp.write(date, into: UnsafeMutableBufferPointer(start: (base + offset).assumingMemoryBound(to: UInt8.self), count: Timestamp.length))
    }

    /// The most bytes ``putDecimal(_:)`` writes: the digits of `UInt64.max`.
    static let decimalBound = 20

    /// `value` in decimal, as `String(value)` spells it.
    mutating func putDecimal(_ value: UInt64) {
        var length = 1
        var scale = value
        while scale >= 10 {
            scale /= 10
            length += 1
        }
        precondition(offset + length <= limit, "wire bytes outgrew their reserved bound")
        var rest = value
        var index = offset + length
        repeat {
            index -= 1
            base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10), toByteOffset: index, as: UInt8.self)
            rest /= 10
        } while rest > 0
        offset += length
    }

    /// `value` bare if ``WireEscaping/isBarePositional(_:)`` allows it, else quoted.
    mutating func putPositional(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            if WireEscaping.isBarePositional(bytes) { put(bytes) } else { putQuoted(bytes) }
        }
    }

    /// `bytes` as a double-quoted string, escaping quotes, backslashes and controls.
    mutating func putQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        put(WireByte.quote)
        putEscaped(bytes, escapingQuotes: true)
        put(WireByte.quote)
    }

    /// `bytes` with backslashes and control characters escaped, and double quotes too
    /// when `escapingQuotes`; unescaped runs copied whole.
    mutating func putEscaped(_ bytes: UnsafeBufferPointer<UInt8>, escapingQuotes: Bool) {
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let mustEscape = WireByte.isControl(byte) || byte == WireByte.backslash || (escapingQuotes && byte == WireByte.quote)
            guard mustEscape else { continue }
            put(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            putEscape(for: byte)
            runStart = index + 1
        }
        put(UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    /// `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, or `\xHH` for any other control character.
    private mutating func putEscape(for byte: UInt8) {
        let escaped: UInt8
        switch byte {
        case WireByte.quote: escaped = WireByte.quote
        case WireByte.backslash: escaped = WireByte.backslash
        case WireByte.lineFeed: escaped = UInt8(ascii: "n")
        case WireByte.carriageReturn: escaped = UInt8(ascii: "r")
        case WireByte.tab: escaped = UInt8(ascii: "t")
        case WireByte.nul: escaped = UInt8(ascii: "0")
        default:
            let digits: StaticString = "0123456789ABCDEF"
            put(WireByte.backslash)
            put(UInt8(ascii: "x"))
            put(digits.utf8Start[Int(byte >> 4)])
            put(digits.utf8Start[Int(byte & 0x0F)])
            return
        }
        put(WireByte.backslash)
        put(escaped)
    }
}
