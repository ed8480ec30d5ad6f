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

    @Test("a number written into a record in decimal is the one String(_:) spells, up to UInt64.max")
    func writerDecimals() {
        var generator = SeededGenerator(seed: 0xDEC1)
        var numbers: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 999_999_999, 1_000_000_000, 9_999_999_999_999_999_999, 10_000_000_000_000_000_000, UInt64.max - 1, UInt64.max]
        numbers += (0..<19).map { power in (0..<power).reduce(UInt64(1)) { result, _ in result * 10 } }
        numbers += (0..<1_000).map { _ in generator.next() >> (generator.next() % 64) }
        for number in numbers {
            var writer = ReplyRecord.Writer(capacity: 2)
            writer.append("id", decimal: number)
            writer.append("active", "yes")
            let expected: ReplyRecord = ["id": String(number), "active": "yes"]
            var written = ByteBuffer()
            var fromFields = ByteBuffer()
            ReplyEncoder.write(writer.record, into: &written)
            ReplyEncoder.write(expected, into: &fromFields)
            #expect(written == fromFields, "\(number)")
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

    @Test("random records written into one reply buffer encode as the same records of fields do, and read back")
    func randomRecordsWriterReplies() throws {
        var generator = SeededGenerator(seed: 0x4EC0_2D5)
        let keys: [StaticString] = ["v", "granted-by", "mailbox", "x_1", "Key-9"]
        for round in 0..<400 {
            // Every fourth reply has values long enough that a record outgrows the room
            // reserved for it and is written a second time, into the buffer itself.
            let maximumLength = round.isMultiple(of: 4) ? 600 : 24
            var writer = ReplyRecordsWriter(capacity: Int.random(in: 1...64, using: &generator))
            var records: [ReplyRecord] = []
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                let fields = (0..<Int.random(in: 0...9, using: &generator)).map { _ in
                    (keys.randomElement(using: &generator)!, generator.nextAwkwardString(maximumLength: maximumLength))
                }
                // And a number, written in decimal straight into the reserved room.
                let number = generator.next() >> (generator.next() % 64)
                var calls = 0
                writer.append { record in
                    calls += 1
                    for (key, value) in fields { record.append(key, value) }
                    record.append("id", decimal: number)
                }
                #expect(calls >= 1 && calls <= 2)
                var record = ReplyRecord()
                for (key, value) in fields { record.append(key: key.description, value: value) }
                record.append(key: "id", value: String(number))
                records.append(record)
            }
            // A lookup's bare `OK` is written with the records in one reservation.
            let status: ReplyStatus = round.isMultiple(of: 2) ? .ok(text: nil) : .ok(text: "\(records.count) things")
            let written = Reply(records: writer, status: status)
            let expected = Reply(records: records, status: status)
            var fromWriter = ByteBuffer()
            var fromFields = ByteBuffer()
            let count = ReplyEncoder.write(written, into: &fromWriter)
            ReplyEncoder.write(expected, into: &fromFields)
            #expect(String(buffer: fromWriter) == String(buffer: fromFields))
            #expect(count == fromWriter.readableBytes)
            #expect(written.recordCount == records.count)
            #expect(writer.count == records.count)
            // Read back from its wire form, the reply is the one of fields.
            #expect(written.records == records)
            #expect(written == expected)
            #expect(written.hashValue == expected.hashValue)
        }
    }

    @Test("a value is written bare exactly when no byte of it is a space, control, quote, backslash or DEL, wherever that byte is")
    func bareValuesByEveryByteAndPlace() {
        // Values of every length around the eight-byte steps the check takes, with each
        // ASCII character and a two-byte one at every place.
        let characters = (0...0x7F).map { Character(Unicode.Scalar(UInt8($0))) } + ["é"]
        for length in 1...19 {
            for place in 0..<length {
                for character in characters {
                    var value = String(repeating: "a", count: length)
                    value.replaceSubrange(value.index(value.startIndex, offsetBy: place)...value.index(value.startIndex, offsetBy: place), with: String(character))
                    let scalar = character.unicodeScalars.first!.value
                    let bare = !(scalar <= 0x20 || scalar == 0x22 || scalar == 0x5C || scalar == 0x7F)
                    var buffer = ByteBuffer()
                    ReplyEncoder.write(["v": value] as ReplyRecord, into: &buffer)
                    let written = String(buffer: buffer)
                    #expect((written == "* v=\(value)\n") == bare, "length \(length), place \(place), U+\(String(scalar, radix: 16))")
                    var writer = ReplyRecordsWriter()
                    writer.append { $0.append("v", value) }
                    var fromWriter = ByteBuffer()
                    ReplyEncoder.write(Reply(records: writer, status: .ok(text: nil)), into: &fromWriter)
                    #expect(String(buffer: fromWriter) == written + "OK\n")
                }
            }
        }
    }

    @Test("a record far larger than the room reserved for it is written whole, and so are the records after it")
    func recordsWriterOverflow() {
        var writer = ReplyRecordsWriter(capacity: 16)
        let long = String(repeating: "a", count: 5_000)
        let quoted = String(repeating: "a b\t", count: 700)
        writer.append { $0.append("id", "1") }
        writer.append { record in
            record.append("long", long)
            record.append("quoted", quoted)
        }
        writer.append { $0.append("id", "3") }
        writer.append { _ in }
        var buffer = ByteBuffer()
        ReplyEncoder.write(Reply(records: writer, status: .ok(text: "4 records")), into: &buffer)
        let escaped = String(repeating: "a b\\t", count: 700)
        #expect(String(buffer: buffer) == "* id=1\n* long=\(long) quoted=\"\(escaped)\"\n* id=3\n*\nOK 4 records\n")
        #expect(writer.count == 4)
    }

    @Test("a writer given the buffer of a reply that is gone writes in the same memory; a reply still held keeps its records")
    func recordsWriterReusesBuffer() {
        func address(_ buffer: ByteBuffer) -> UInt {
            buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        }
        var first = ReplyRecordsWriter(capacity: 256)
        first.append { $0.append("id", "1") }
        var kept: ByteBuffer? = first.buffer
        let memory = address(kept!)
        first = ReplyRecordsWriter(capacity: 1)
        var second = ReplyRecordsWriter(reusing: kept.take(), capacity: 1)
        second.append { $0.append("id", "2") }
        #expect(address(second.buffer) == memory)
        #expect(second.buffer.capacity >= 256)
        #expect(String(buffer: second.buffer) == "* id=2\n")

        // The second writer's buffer is still held, by a reply and by the writer: the third
        // writer gets memory of its own, and the reply keeps its record.
        let held = Reply(records: second, status: .ok(text: nil))
        var third = ReplyRecordsWriter(reusing: second.buffer)
        third.append { $0.append("id", "3") }
        #expect(address(third.buffer) != memory)
        var encoded = ByteBuffer()
        ReplyEncoder.write(held, into: &encoded)
        #expect(String(buffer: encoded) == "* id=2\nOK\n")
        #expect(String(buffer: third.buffer) == "* id=3\n")
        #expect(String(buffer: ReplyRecordsWriter(reusing: nil).buffer).isEmpty)
    }

    @Test("a reply of written records changed through its records holds the change")
    func recordsWriterReplyChanged() {
        var writer = ReplyRecordsWriter()
        writer.append { $0.append("allowed", "yes") }
        var reply = Reply(records: writer, status: .ok(text: nil))
        reply.records.append(["login": "ann@example.org"])
        #expect(reply.recordCount == 2)
        var buffer = ByteBuffer()
        ReplyEncoder.write(reply, into: &buffer)
        #expect(String(buffer: buffer) == "* allowed=yes\n* login=ann@example.org\nOK\n")
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
