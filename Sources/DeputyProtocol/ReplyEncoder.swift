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
        if let wire = record.wire {
            // Written by a ``ReplyRecord/Writer``: already the line, without `*` and its LF.
            let start = buffer.writerIndex
            buffer.writeInteger(WireByte.asterisk)
            buffer.writeImmutableBuffer(wire)
            buffer.writeInteger(WireByte.lineFeed)
            return buffer.writerIndex - start
        }
        // One reservation for the whole line, then plain copies into it (``WireCursor``).
        var bound = 2
        for field in record.fields {
            bound += 2 + field.key.utf8.count + WireEscaping.bound(of: field.value)
        }
        return buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
            var cursor = WireCursor(output)
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
        if let wire = reply.wireRecords {
            // Written by a ``ReplyRecordsWriter``: already every line.
            if case .ok(nil) = reply.status {
                // A lookup's answer: its records and `OK` in one reservation, two copies.
                return buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wire.readableBytes + 3) { output in
                    var cursor = WireCursor(output)
                    wire.withUnsafeReadableBytes { cursor.put($0.bindMemory(to: UInt8.self)) }
                    cursor.put(UInt8(ascii: "O"))
                    cursor.put(UInt8(ascii: "K"))
                    cursor.put(WireByte.lineFeed)
                    return cursor.offset
                }
            }
            return buffer.writeImmutableBuffer(wire) + Self.write(reply.status, into: &buffer)
        }
        var written = 0
        for record in reply.records {
            written += Self.write(record, into: &buffer)
        }
        return written + Self.write(reply.status, into: &buffer)
    }
}
