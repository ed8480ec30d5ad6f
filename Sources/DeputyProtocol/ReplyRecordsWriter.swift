import NIOCore

/// Writes every record of a reply in its wire form into one buffer: the answers a server
/// sends by the thousand, where a ``ReplyRecord`` per line is a buffer of its own, an
/// array holds them, and each is copied once more into the connection's reply.
///
/// ```swift
/// var records = ReplyRecordsWriter()
/// records.append { fields in
///     fields.append("mailbox", "boss@example.org")
///     fields.append("name", "The Boss")
/// }
/// let reply = Reply(records: records, status: .ok(text: "1 mailboxes"))
/// // * mailbox=boss@example.org name="The Boss"
/// // OK 1 mailboxes
/// ```
public struct ReplyRecordsWriter {
    /// The lines written so far, each `*`, its fields and LF.
    private(set) var bytes: ByteBuffer
    /// The number of records written.
    public private(set) var count = 0
    /// The room reserved for the next record: doubled each time a record outgrows it.
    private var reservation: Int

    /// A writer with room for `capacity` bytes before it grows, which reserves
    /// `recordBound` bytes for each record (doubled when a record needs more).
    ///
    /// A `recordBound` above the room left makes the buffer grow, so `capacity` is best a
    /// multiple of it; one too small writes a record twice.
    public init(capacity: Int = 256, recordBound: Int = 128) {
        bytes = ByteBufferAllocator().buffer(capacity: capacity)
        reservation = max(recordBound, 16)
    }

    /// A writer into `buffer`, emptied first, or into a new one as ``init(capacity:recordBound:)``
    /// makes when `buffer` is `nil`. A buffer that nothing else holds keeps its memory: a
    /// connection's session passes the one its last reply was written in (``buffer``).
    public init(reusing buffer: consuming ByteBuffer?, capacity: Int = 256, recordBound: Int = 128) {
        reservation = max(recordBound, 16)
        bytes = buffer ?? ByteBufferAllocator().buffer(capacity: capacity)
        // In place when the buffer is this writer's alone; a shared one is left as it is,
        // and the writer gets new memory.
        bytes.clear()
    }

    /// The buffer the records are written in, to pass to the next writer once every reply
    /// made from this one is gone.
    public var buffer: ByteBuffer { bytes }

    /// Writes one record: its fields are those `writeFields` appends, in order.
    ///
    /// `writeFields` is called again, into the buffer itself, when a record outgrows the
    /// room reserved for it, so it must append the same fields each time it is called.
    public mutating func append(_ writeFields: (inout ReplyRecord.Writer) -> Void) {
        let written = bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: reservation) { memory in
            var writer = ReplyRecord.Writer(reserved: memory)
            writer.putReserved(WireByte.asterisk)
            writeFields(&writer)
            writer.putReserved(WireByte.lineFeed)
            // Nothing kept of a record that did not fit: it is written again below.
            return writer.overflowed ? 0 : writer.reservedOffset
        }
        if written == 0 {
            reservation *= 2
            // The buffer moves into the field writer and back, so that it is never shared
            // while it is written (a shared buffer would be copied on its first write).
            var writer = ReplyRecord.Writer(continuing: bytes)
            bytes = ByteBuffer()
            writer.bytes!.writeInteger(WireByte.asterisk)
            writeFields(&writer)
            writer.bytes!.writeInteger(WireByte.lineFeed)
            bytes = writer.bytes!
        }
        count += 1
    }
}
