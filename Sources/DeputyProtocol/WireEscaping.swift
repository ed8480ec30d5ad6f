import NIOCore

/// Writes values in their wire form: bare when the grammar allows, otherwise quoted and escaped.
///
/// Every writer works on the UTF-8 bytes of the value and copies unescaped runs in one call, so
/// that encoding does not allocate an intermediate `String` per value.
enum WireEscaping {
    // MARK: - Bare checks

    /// Whether a value may be written bare after `key=`: non-empty, and no separator, double
    /// quote, backslash or control character. `=` is fine because the key ends at the first `=`.
    static func isBareValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        let count = bytes.count
        guard count >= 8 else {
            for byte in bytes where byte == WireByte.space || WireByte.needsQuotedEscape(byte) { return false }
            return true
        }
        // Eight bytes at a time: every value of every record a reply lists is checked, and a
        // byte at a time was the largest part of writing a `QUERY DELEGATES` record.
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= count {
            if Self.holdsUnbareByte(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) { return false }
            offset += 8
        }
        // The last eight bytes, overlapping those already checked.
        return offset == count || !Self.holdsUnbareByte(raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
    }

    /// Whether any of the eight bytes in `word` keeps a value from being bare: below 0x21 (a
    /// control character or space), `"`, `\` or DEL.
    ///
    /// The tests of "Bit Twiddling Hacks": `(x - n) & ~x & 0x80` has its high bit set when a
    /// byte `x` is below `n` (for `n` at most 0x80), and a byte equals `b` when `x ^ b` is
    /// below 1. A borrow may spill into the byte above a match, which changes how many bytes
    /// are flagged, never whether one is.
    @inline(__always)
    static func holdsUnbareByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func below(_ bound: UInt64, _ word: UInt64) -> UInt64 {
            (word &- ones &* bound) & ~word & highBits
        }
        return (below(0x21, word) | below(1, word ^ (ones &* 0x22)) | below(1, word ^ (ones &* 0x5C)) | below(1, word ^ (ones &* 0x7F))) != 0
    }

    /// Whether a positional argument may be written bare: as ``isBareValue(_:)`` and also no
    /// `=`, so that it can never be read back as a named argument.
    static func isBarePositional(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Self.isBareValue(bytes) else { return false }
        return !bytes.contains(WireByte.equals)
    }

    // MARK: - Writers

    /// The most bytes `value` can take on the wire: each byte escaped as `\xHH`, and two
    /// quotes.
    static func bound(of value: String) -> Int {
        bound(ofLength: value.utf8.count)
    }

    /// The most bytes a value of `length` UTF-8 bytes can take on the wire.
    static func bound(ofLength length: Int) -> Int {
        4 * length + 2
    }

    /// Writes `value` bare if ``isBareValue(_:)`` allows it, else quoted.
    static func writeValue(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound(of: value)) { output in
            var cursor = WireCursor(output)
            cursor.putValue(value)
            return cursor.offset
        }
    }

    /// Writes `value` bare if ``isBarePositional(_:)`` allows it, else quoted.
    static func writePositional(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound(of: value)) { output in
            var cursor = WireCursor(output)
            cursor.putPositional(value)
            return cursor.offset
        }
    }

    /// Writes free status-line text: backslashes and control characters are escaped so the text
    /// stays on one line and round-trips; double quotes are left alone for readability.
    static func writeStatusText(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound(of: text)) { output in
            var cursor = WireCursor(output)
            text.withUTF8 { cursor.putEscaped($0, escapingQuotes: false) }
            return cursor.offset
        }
    }
}
