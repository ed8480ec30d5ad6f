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
        guard !bytes.isEmpty else { return false }
        for byte in bytes where byte == WireByte.space || WireByte.needsQuotedEscape(byte) {
            return false
        }
        return true
    }

    /// Whether a positional argument may be written bare: as ``isBareValue(_:)`` and also no
    /// `=`, so that it can never be read back as a named argument.
    static func isBarePositional(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Self.isBareValue(bytes) else { return false }
        return !bytes.contains(WireByte.equals)
    }

    // MARK: - Writers

    /// Writes `value` bare if ``isBareValue(_:)`` allows it, else quoted.
    static func writeValue(_ value: String, into buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { bytes in
            if Self.isBareValue(bytes) {
                buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            } else {
                Self.writeQuoted(bytes, into: &buffer)
            }
        }
    }

    /// Writes `value` bare if ``isBarePositional(_:)`` allows it, else quoted.
    static func writePositional(_ value: String, into buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { bytes in
            if Self.isBarePositional(bytes) {
                buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            } else {
                Self.writeQuoted(bytes, into: &buffer)
            }
        }
    }

    /// Writes `bytes` as a double-quoted string, escaping quotes, backslashes and controls.
    static func writeQuoted(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeInteger(WireByte.quote)
        Self.writeEscaped(bytes, into: &buffer, escapingQuotes: true)
        buffer.writeInteger(WireByte.quote)
    }

    /// Writes free status-line text: backslashes and control characters are escaped so the text
    /// stays on one line and round-trips; double quotes are left alone for readability.
    static func writeStatusText(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            Self.writeEscaped(bytes, into: &buffer, escapingQuotes: false)
        }
    }

    private static func writeEscaped(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into buffer: inout ByteBuffer,
        escapingQuotes: Bool
    ) {
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let mustEscape =
                WireByte.isControl(byte) || byte == WireByte.backslash || (escapingQuotes && byte == WireByte.quote)
            guard mustEscape else { continue }
            if runStart < index {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<index]))
            }
            Self.writeEscape(for: byte, into: &buffer)
            runStart = index + 1
        }
        if runStart < bytes.count {
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart...]))
        }
    }

    private static func writeEscape(for byte: UInt8, into buffer: inout ByteBuffer) {
        escape(byte) { buffer.writeInteger($0) }
    }

    /// Hands `put` each byte of `byte`'s escape: `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, or
    /// `\xHH` for any other control character.
    @inline(__always)
    static func escape(_ byte: UInt8, _ put: (UInt8) -> Void) {
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
            digits.withUTF8Buffer { hex in
                put(WireByte.backslash)
                put(UInt8(ascii: "x"))
                put(hex[Int(byte >> 4)])
                put(hex[Int(byte & 0x0F)])
            }
            return
        }
        put(WireByte.backslash)
        put(escaped)
    }
}
