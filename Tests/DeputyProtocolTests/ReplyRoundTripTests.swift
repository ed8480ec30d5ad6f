import DeputyCore
import DeputyProtocol
import Foundation
import NIOCore
import Testing

@Suite("Reply round trips")
struct ReplyRoundTripTests {
    private static let stringCount = 2_000

    /// Checks that `buffer` holds exactly one line: a single LF, at the end, and no CR.
    private func expectSingleLine(_ buffer: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) {
        let encoded = bytes(of: buffer)
        #expect(encoded.last == 0x0A, sourceLocation: sourceLocation)
        #expect(encoded.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x0D }, sourceLocation: sourceLocation)
    }

    @Test("2,000 random values round-trip exactly through data records")
    func randomRecordValues() throws {
        var generator = SeededGenerator(seed: 0xDE9_0717)
        for _ in 0..<Self.stringCount {
            let value = generator.nextAwkwardString()
            let record: ReplyRecord = ["v": value]
            var buffer = ByteBuffer()
            ReplyEncoder.write(record, into: &buffer)
            self.expectSingleLine(buffer)

            guard case .record(let parsed) = try ReplyParser.parse(buffer) else {
                Issue.record("expected a record")
                continue
            }
            #expect(parsed == record)
            #expect(parsed["v"].map { Array($0.utf8) } == Array(value.utf8))
        }
    }

    @Test("2,000 random values written by a record writer encode as the same record of fields does, and read back")
    func randomWriterValues() throws {
        var generator = SeededGenerator(seed: 0x5EED_0717)
        for _ in 0..<Self.stringCount {
            let first = generator.nextAwkwardString()
            let second = generator.nextAwkwardString()
            var writer = ReplyRecord.Writer(capacity: 8)
            writer.append("v", first)
            writer.append("granted-by", second)
            let written = writer.record
            let fields: ReplyRecord = ["v": first, "granted-by": second]
            var fromWriter = ByteBuffer()
            var fromFields = ByteBuffer()
            let count = ReplyEncoder.write(written, into: &fromWriter)
            ReplyEncoder.write(fields, into: &fromFields)
            #expect(fromWriter == fromFields)
            #expect(count == fromWriter.readableBytes)
            self.expectSingleLine(fromWriter)
            // Read back from its wire form, the record is the one of fields.
            #expect(written == fields)
            #expect(written.fields.map(\.key) == ["v", "granted-by"])
            #expect(written["granted-by"].map { Array($0.utf8) } == Array(second.utf8))
        }
    }

    @Test("a timestamp written into a record is the one Timestamp.format writes")
    func writerTimestamps() {
        var generator = SeededGenerator(seed: 0x7135)
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 4_102_444_799.9)]
            + (0..<500).map { _ in Date(timeIntervalSince1970: Double(Int64(generator.next() % 8_000_000_000)) - 2_000_000_000) }
        for date in dates {
            var writer = ReplyRecord.Writer(capacity: 4)
            writer.append("granted-at", timestamp: date)
            writer.append("active", "yes")
            let expected: ReplyRecord = ["granted-at": Timestamp.format(date), "active": "yes"]
            var written = ByteBuffer()
            var fromFields = ByteBuffer()
            ReplyEncoder.write(writer.record, into: &written)
            ReplyEncoder.write(expected, into: &fromFields)
            #expect(written == fromFields, "\(date)")
        }
    }

    @Test("a written record changed through its fields encodes the change; an empty writer is a lone asterisk")
    func writerRecordChanged() {
        var writer = ReplyRecord.Writer()
        writer.append("allowed", "yes")
        writer.append("from", "Zoë Smith")
        var record = writer.record
        record.fields.insert(ReplyRecord.Field(key: "login", value: "ann@example.org")!, at: 0)
        record.append(key: "grant", value: "7")
        var buffer = ByteBuffer()
        ReplyEncoder.write(record, into: &buffer)
        #expect(String(buffer: buffer) == "* login=ann@example.org allowed=yes from=\"Zoë Smith\" grant=7\n")
        var empty = ByteBuffer()
        ReplyEncoder.write(ReplyRecord.Writer().record, into: &empty)
        #expect(String(buffer: empty) == "*\n")
        #expect(ReplyRecord.Writer().record == ReplyRecord())
    }

    @Test("2,000 random texts round-trip exactly through status lines")
    func randomStatusText() throws {
        var generator = SeededGenerator(seed: 0x57A7_05)
        for index in 0..<Self.stringCount {
            let text = generator.nextAwkwardString()
            let status: ReplyStatus =
                index.isMultiple(of: 2) ? .ok(text: text) : .error(code: ErrorCode.allKnown[index % 14], text: text)
            var buffer = ByteBuffer()
            ReplyEncoder.write(status, into: &buffer)
            self.expectSingleLine(buffer)

            guard case .status(let parsed) = try ReplyParser.parse(buffer) else {
                Issue.record("expected a status")
                continue
            }
            #expect(parsed == status)
            switch parsed {
            case .ok(let parsedText): #expect(parsedText.map { Array($0.utf8) } == Array(text.utf8))
            case .error(_, let parsedText): #expect(Array(parsedText.utf8) == Array(text.utf8))
            }
        }
    }

    @Test("random multi-field replies survive framing and accumulation")
    func randomRepliesThroughFraming() throws {
        var generator = SeededGenerator(seed: 0xF00D)
        var replies: [Reply] = []
        var wire = ByteBuffer()
        for _ in 0..<200 {
            var records: [ReplyRecord] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                var record = ReplyRecord()
                for _ in 0..<Int.random(in: 0...6, using: &generator) {
                    record.append(key: generator.nextKey(), value: generator.nextAwkwardString())
                }
                records.append(record)
            }
            let reply = Reply(records: records, status: .ok(text: generator.nextAwkwardString()))
            replies.append(reply)
            ReplyEncoder.write(reply, into: &wire)
        }

        let processor = NIOSingleStepByteToMessageProcessor(LineFrameDecoder(maximumLineLength: 4_096))
        var accumulator = ReplyAccumulator()
        var decoded: [Reply] = []
        // Odd-sized chunks so that lines straddle reads.
        while wire.readableBytes > 0 {
            let chunk = wire.readSlice(length: min(wire.readableBytes, Int.random(in: 1...97, using: &generator)))!
            try processor.process(buffer: chunk) { line in
                if let reply = try accumulator.append(line: line) { decoded.append(reply) }
            }
        }
        try processor.finishProcessing(seenEOF: true) { _ in Issue.record("no partial line expected") }
        #expect(decoded == replies)
        #expect(accumulator.pendingRecordCount == 0)
    }
}
