/// The binary frame around each journal record.
///
/// ```
/// offset  size  field
///      0     4  magic D7 4A 52 4E
///      4     1  format version, 1
///      5     3  reserved, zero
///      8     4  body length, unsigned little-endian
///     12     8  sequence, unsigned little-endian (the body's "sequence")
///     20     8  batch start: the sequence of the first record of the same write
///     28     4  CRC-32C of bytes 0..<28 followed by the body, little-endian
///     32     n  body: the record as UTF-8 JSON
/// ```
///
/// The batch start lets recovery tell a write that was cut short by a power cut (every
/// damaged byte lies in the last write) from damage to records that were already durable.
enum JournalFrame {
    static let magic: [UInt8] = [0xD7, 0x4A, 0x52, 0x4E]
    static let version: UInt8 = 1
    static let headerLength = 32
    private static let checksumOffset = 28

    /// A frame found in a journal file.
    struct Frame: Hashable, Sendable {
        /// Where the frame starts in the file.
        let offset: Int
        let sequence: UInt64
        let batchStart: UInt64
        /// Where the body lies in the file.
        let body: Range<Int>

        /// Where the next frame starts.
        var end: Int { body.upperBound }
    }

    /// What lies at an offset.
    enum Parsed {
        case frame(Frame)
        case damaged(String)
    }

    /// Frames `bodies` (with their sequences) as one write whose first record is the batch start.
    static func encodeBatch(_ records: [(sequence: UInt64, body: [UInt8])]) -> [UInt8] {
        guard let batchStart = records.first?.sequence else { return [] }
        var output: [UInt8] = []
        output.reserveCapacity(records.reduce(0) { $0 + headerLength + $1.body.count })
        for record in records {
            append(body: record.body, sequence: record.sequence, batchStart: batchStart, to: &output)
        }
        return output
    }

    /// Appends one framed record to `output`.
    static func append(body: [UInt8], sequence: UInt64, batchStart: UInt64, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: magic)
        output.append(version)
        output.append(contentsOf: [0, 0, 0])
        appendLittleEndian(UInt32(body.count), to: &output)
        appendLittleEndian(sequence, to: &output)
        appendLittleEndian(batchStart, to: &output)
        var checksum = CRC32C.checksum(output, start..<(start + checksumOffset))
        checksum = body.withUnsafeBytes { CRC32C.checksum($0, continuing: checksum) }
        appendLittleEndian(checksum, to: &output)
        output.append(contentsOf: body)
    }

    /// The frame at `offset` of `bytes`, or why there is none.
    static func parse(_ bytes: [UInt8], at offset: Int) -> Parsed {
        let available = bytes.count - offset
        guard available >= headerLength else {
            return .damaged("the record header is incomplete (\(available) of \(headerLength) bytes)")
        }
        guard bytes[offset..<(offset + 4)].elementsEqual(magic) else {
            return .damaged("no record starts here (wrong magic bytes)")
        }
        guard bytes[offset + 4] == version else {
            return .damaged("unknown record format version \(bytes[offset + 4])")
        }
        let length = Int(readLittleEndian(UInt32.self, bytes, at: offset + 8))
        guard length <= StorageLimits.maximumRecordLength else {
            return .damaged("the record length \(length) is over the limit of \(StorageLimits.maximumRecordLength) bytes")
        }
        guard available - headerLength >= length else {
            return .damaged("the record is incomplete (\(available - headerLength) of \(length) body bytes)")
        }
        var checksum = CRC32C.checksum(bytes, offset..<(offset + checksumOffset))
        checksum = CRC32C.checksum(bytes, (offset + headerLength)..<(offset + headerLength + length), continuing: checksum)
        guard checksum == readLittleEndian(UInt32.self, bytes, at: offset + checksumOffset) else {
            return .damaged("the record checksum does not match")
        }
        let sequence = readLittleEndian(UInt64.self, bytes, at: offset + 12)
        let batchStart = readLittleEndian(UInt64.self, bytes, at: offset + 20)
        guard sequence > 0, batchStart <= sequence else {
            return .damaged("the record header is malformed (sequence \(sequence), batch start \(batchStart))")
        }
        return .frame(Frame(offset: offset, sequence: sequence, batchStart: batchStart, body: (offset + headerLength)..<(offset + headerLength + length)))
    }

    // MARK: - Integers

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to output: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }

    private static func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
