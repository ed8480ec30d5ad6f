import NIOCore

/// Writes reply lines straight into a `ByteBuffer`.
///
/// Each line ends with a single LF. Values are written bare when they are non-empty and contain
/// no space, TAB, `"`, `\` or control character, otherwise quoted with `\"`, `\\`, `\n`, `\r`,
/// `\t`, `\0` and `\xHH` escapes, so no value can ever introduce a line break.
///
/// ```swift
/// var buffer = allocator.buffer(capacity: 256)
/// ReplyEncoder.write(["mail": "alice@example.org", "name": "Alice Liddell"] as ReplyRecord, into: &buffer)
/// ReplyEncoder.write(ReplyStatus.ok(text: "1 entry"), into: &buffer)
/// // * mail=alice@example.org name="Alice Liddell"\n
/// // OK 1 entry\n
/// ```
///
/// Encoding copies each value's bytes in as few runs as possible and allocates nothing but
/// buffer growth, as it sits on the server's hot path.
public enum ReplyEncoder {
    /// Appends a data line, `* key=value ...` (or `*` for an empty record), and its LF.
    ///
    /// - Returns: The number of bytes written.
    @discardableResult
    public static func write(_ record: ReplyRecord, into buffer: inout ByteBuffer) -> Int {
        // One reservation for the whole line, then plain copies into it: writing piece by
        // piece checked the buffer's capacity and uniqueness four times a field, a quarter
        // of a `QUERY DELEGATES` answer's time. The bound is exact for bare values; a
        // quoted value takes at most four bytes a byte (`\xHH`) and its two quotes.
        var bound = 2
        for field in record.fields {
            bound += 2 + field.key.utf8.count + 4 * field.value.utf8.count + 2
        }
        return buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
            var cursor = Cursor(output)
            cursor.put(WireByte.asterisk)
            for field in record.fields {
                cursor.put(WireByte.space)
                cursor.put(field.key)
                cursor.put(WireByte.equals)
                cursor.putValue(field.value)
            }
            cursor.put(WireByte.lineFeed)
            return cursor.offset
        }
    }

    /// Writes into memory reserved for it. Each write still checks the reserved length (one
    /// comparison, not the buffer's capacity and uniqueness), so that a wrong bound stops
    /// the process rather than writing past the reservation.
    private struct Cursor {
        let base: UnsafeMutableRawPointer
        let limit: Int
        var offset = 0

        init(_ output: UnsafeMutableRawBufferPointer) {
            base = output.baseAddress!
            limit = output.count
        }

        mutating func put(_ byte: UInt8) {
            precondition(offset < limit, "a reply record outgrew its reserved bound")
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            precondition(offset + bytes.count <= limit, "a reply record outgrew its reserved bound")
            guard let source = bytes.baseAddress else { return }
            (base + offset).copyMemory(from: source, byteCount: bytes.count)
            offset += bytes.count
        }

        mutating func put(_ string: String) {
            var string = string
            string.withUTF8 { put($0) }
        }

        /// A value bare when the grammar allows (``WireEscaping/isBareValue(_:)``), else
        /// quoted as ``WireEscaping/writeQuoted(_:into:)`` writes it.
        mutating func putValue(_ value: String) {
            var value = value
            value.withUTF8 { bytes in
                if WireEscaping.isBareValue(bytes) {
                    put(bytes)
                } else {
                    putQuoted(bytes)
                }
            }
        }

        private mutating func putQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
            put(WireByte.quote)
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard WireByte.needsQuotedEscape(byte) else { continue }
                put(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                WireEscaping.escape(byte) { put($0) }
                runStart = index + 1
            }
            put(UnsafeBufferPointer(rebasing: bytes[runStart...]))
            put(WireByte.quote)
        }
    }

    /// Appends a status line, `OK`, `OK <text>` or `ERR <code> <text>`, and its LF.
    ///
    /// An empty `ERR` text is written without the trailing space (`ERR <code>`).
    ///
    /// - Returns: The number of bytes written.
    @discardableResult
    public static func write(_ status: ReplyStatus, into buffer: inout ByteBuffer) -> Int {
        let start = buffer.writerIndex
        switch status {
        case .ok(let text):
            buffer.writeStaticString("OK")
            if let text {
                buffer.writeInteger(WireByte.space)
                WireEscaping.writeStatusText(text, into: &buffer)
            }
        case .error(let code, let text):
            buffer.writeStaticString("ERR ")
            buffer.writeString(code.rawValue)
            if !text.isEmpty {
                buffer.writeInteger(WireByte.space)
                WireEscaping.writeStatusText(text, into: &buffer)
            }
        }
        buffer.writeInteger(WireByte.lineFeed)
        return buffer.writerIndex - start
    }

    /// Appends every record of `reply`, then its status.
    ///
    /// - Returns: The number of bytes written.
    @discardableResult
    public static func write(_ reply: Reply, into buffer: inout ByteBuffer) -> Int {
        var written = 0
        for record in reply.records {
            written += Self.write(record, into: &buffer)
        }
        return written + Self.write(reply.status, into: &buffer)
    }
}
