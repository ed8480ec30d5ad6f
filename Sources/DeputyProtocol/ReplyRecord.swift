import DeputyCore
import Foundation
import NIOCore

/// One data line of a reply: an ordered list of `key=value` fields.
///
/// ```
/// * dn="uid=alice,ou=people,dc=example,dc=org" mail=alice@example.org name="Alice Liddell"
/// ```
///
/// Keys match `[A-Za-z0-9_-]+` and may repeat (for example one `member=` field per member);
/// values are arbitrary strings, quoted and escaped on the wire as needed.
///
/// ```swift
/// var record: ReplyRecord = ["mail": "alice@example.org"]
/// record.append(key: "member", value: "staff@example.org")
/// ```
public struct ReplyRecord: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    /// How the record holds its fields.
    private enum Storage: Sendable {
        /// As values.
        case fields([Field])
        /// As written by a ``Writer``: the line's bytes after `*` and before its LF.
        case wire(ByteBuffer)
    }

    private var storage: Storage

    /// The fields in wire order. A record made by a ``Writer`` reads them back from its
    /// wire form on first use.
    public var fields: [Field] {
        get {
            switch storage {
            case .fields(let fields): fields
            case .wire(let bytes): Self.fields(fromWire: bytes)
            }
        }
        _modify {
            var fields = self.fields
            // Unshared while it is changed: no copy of the array per change.
            storage = .fields([])
            defer { storage = .fields(fields) }
            yield &fields
        }
    }

    /// Creates an empty record.
    public init() {
        self.storage = .fields([])
    }

    /// Creates a record from already validated fields.
    public init(fields: [Field]) {
        self.storage = .fields(fields)
    }

    /// The wire form, when a ``Writer`` made the record: ``ReplyEncoder`` copies it whole.
    var wire: ByteBuffer? {
        if case .wire(let bytes) = storage { return bytes }
        return nil
    }

    public static func == (lhs: ReplyRecord, rhs: ReplyRecord) -> Bool {
        lhs.fields == rhs.fields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields)
    }

    private static func fields(fromWire bytes: ByteBuffer) -> [Field] {
        var line = ByteBuffer(integer: WireByte.asterisk)
        line.writeImmutableBuffer(bytes)
        guard case .record(let record)? = try? ReplyParser().parse(line) else {
            preconditionFailure("a record's own wire form does not parse")
        }
        return record.fields
    }

    /// Creates a record from literal key/value pairs, in order.
    ///
    /// Keys are part of the protocol vocabulary, so an invalid literal key is a programming
    /// error and traps.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.storage = .fields([])
        self.fields.reserveCapacity(elements.count)
        for (key, value) in elements {
            self.append(key: key, value: value)
        }
    }

    // MARK: - Building

    /// Appends a field.
    ///
    /// - Precondition: `key` matches `[A-Za-z0-9_-]+`. Use ``Field/init(key:value:)`` to check
    ///   keys that come from data.
    public mutating func append(key: String, value: String) {
        guard let field = Field(key: key, value: value) else {
            preconditionFailure("invalid reply record key")
        }
        self.fields.append(field)
    }

    /// Appends a field.
    public mutating func append(_ field: Field) {
        self.fields.append(field)
    }

    /// Writes a record's fields in their wire form as they are given, for the answers a
    /// server sends by the thousand: one buffer, where a record of ``Field``s is an array
    /// and two strings a field, each counted again as the encoder reads it, and the values
    /// copied rather than referenced (a value is often the directory's own string, which
    /// every thread answering would count).
    ///
    /// ```swift
    /// var writer = ReplyRecord.Writer()
    /// writer.append("mailbox", "boss@example.org")
    /// writer.append("name", "The Boss")
    /// let record = writer.record   // * mailbox=boss@example.org name="The Boss"
    /// ```
    ///
    /// A writer given to ``ReplyRecordsWriter/append(_:)``'s closure lives only for that
    /// call: it writes into memory the reply's buffer reserved for the record.
    public struct Writer {
        /// The fields written so far; for a ``ReplyRecordsWriter``, its earlier lines too.
        /// None for a writer into reserved memory: even an empty buffer is a reference that
        /// every thread would count.
        var bytes: ByteBuffer?
        /// Where a writer of ``ReplyRecordsWriter`` writes instead of ``bytes``: memory
        /// reserved once for the whole record, so that a field is two comparisons and plain
        /// copies, where writing into the buffer checked its capacity and uniqueness again
        /// for every field (nine of them in a `QUERY DELEGATES` record).
        private var reserved: UnsafeMutableRawPointer?
        /// The bytes of reserved memory.
        private var reservedLimit = 0
        /// The bytes written into reserved memory.
        private(set) var reservedOffset = 0
        /// Whether a field did not fit in the reserved memory: the record is then written
        /// again into ``bytes``.
        private(set) var overflowed = false

        /// A writer with room for `capacity` bytes before it grows.
        public init(capacity: Int = 128) {
            bytes = ByteBufferAllocator().buffer(capacity: capacity)
        }

        /// A writer that goes on writing after what `bytes` holds.
        init(continuing bytes: ByteBuffer) {
            self.bytes = bytes
        }

        /// A writer into `memory`, which it must not outlive.
        init(reserved memory: UnsafeMutableRawBufferPointer) {
            self.bytes = nil
            self.reserved = memory.baseAddress
            self.reservedLimit = memory.count
        }

        /// Writes one byte of the line's own (its `*` or LF) into reserved memory.
        mutating func putReserved(_ byte: UInt8) {
            guard let reserved, reservedOffset < reservedLimit else {
                overflowed = true
                return
            }
            reserved.storeBytes(of: byte, toByteOffset: reservedOffset, as: UInt8.self)
            reservedOffset += 1
        }

        /// Appends `key=value`, the value bare or quoted as ``ReplyEncoder`` writes it.
        ///
        /// - Precondition: `key` matches `[A-Za-z0-9_-]+` (a key of the protocol's vocabulary).
        public mutating func append(_ key: StaticString, _ value: String) {
            var value = value
            value.withUTF8 { append(key, utf8: $0) }
        }

        /// Appends `key=value` for a value given as its UTF-8 bytes, bare or quoted as
        /// ``append(_:_:)`` writes it.
        public mutating func append(_ key: StaticString, utf8 bytes: UnsafeBufferPointer<UInt8>) {
            // Bare or not decided first, so that a bare value (nearly all of them) reserves
            // its own length rather than the quoted worst case, four times as long: with
            // those reservations a record outgrew its buffer and was copied into a larger one.
            let bare = WireEscaping.isBareValue(bytes)
            append(key, valueBound: bare ? bytes.count : WireEscaping.bound(ofLength: bytes.count)) { cursor in
                if bare { cursor.put(bytes) } else { cursor.putQuoted(bytes) }
            }
        }

        /// Appends `key=<timestamp>`, written straight into the record as
        /// ``DeputyCore/Timestamp/format(_:)`` writes it (always a bare value).
        public mutating func append(_ key: StaticString, timestamp: Date) {
            append(key, valueBound: Timestamp.length) { cursor in cursor.putTimestamp(timestamp) }
        }

        /// Appends `key=<number>` in decimal, written straight into the record: an identity
        /// made into a `String` first went through the standard library's generic integer
        /// formatting for every delegated `SENDAS` and every `DELEGATES` record.
        public mutating func append(_ key: StaticString, decimal number: UInt64) {
            append(key, valueBound: WireCursor.decimalBound) { cursor in cursor.putDecimal(number) }
        }

        /// Writes ` key=` and then the value, which `writeValue` writes in at most
        /// `valueBound` bytes.
        private mutating func append(_ key: StaticString, valueBound: Int, _ writeValue: (inout WireCursor) -> Void) {
            key.withUTF8Buffer { key in
                assert(!key.isEmpty && key.allSatisfy(WireByte.isKeyByte), "invalid reply record key")
                let bound = 2 + key.count + valueBound
                if let reserved {
                    guard !overflowed, bound <= reservedLimit - reservedOffset else {
                        overflowed = true
                        return
                    }
                    var cursor = WireCursor(UnsafeMutableRawBufferPointer(start: reserved + reservedOffset, count: bound))
                    cursor.put(WireByte.space)
                    cursor.put(key)
                    cursor.put(WireByte.equals)
                    writeValue(&cursor)
                    reservedOffset += cursor.offset
                    return
                }
                bytes!.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
                    var cursor = WireCursor(output)
                    cursor.put(WireByte.space)
                    cursor.put(key)
                    cursor.put(WireByte.equals)
                    writeValue(&cursor)
                    return cursor.offset
                }
            }
        }

        /// The record written so far.
        public var record: ReplyRecord {
            ReplyRecord(storage: .wire(bytes ?? ByteBuffer()))
        }
    }

    private init(storage: Storage) {
        self.storage = storage
    }

    // MARK: - Reading

    /// The value of the first field named `key`, or `nil`.
    public subscript(key: String) -> String? {
        self.fields.first { $0.key == key }?.value
    }

    /// The values of every field named `key`, in order.
    public func values(for key: String) -> [String] {
        self.fields.compactMap { $0.key == key ? $0.value : nil }
    }

    /// Whether the record has no fields.
    public var isEmpty: Bool {
        self.fields.isEmpty
    }
}
