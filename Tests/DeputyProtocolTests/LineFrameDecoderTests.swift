import DeputyProtocol
import NIOCore
import NIOTestUtils
import Testing

@Suite("Line frame decoder")
struct LineFrameDecoderTests {
    // MARK: - Verifier

    @Test("passes the NIO decoder verifier with LF and CRLF lines")
    func verifier() throws {
        let pairs: [(String, [ByteBuffer])] = [
            ("PING\n", [ByteBuffer(string: "PING")]),
            ("BIND alice secret\r\n", [ByteBuffer(string: "BIND alice secret")]),
            ("\n", [ByteBuffer()]),
            ("\r\n", [ByteBuffer()]),
            ("a\nb\r\nc\n", [ByteBuffer(string: "a"), ByteBuffer(string: "b"), ByteBuffer(string: "c")]),
            ("x\ry\n", [ByteBuffer(string: "x\ry")]),
            ("\r\r\n", [ByteBuffer(string: "\r")]),
            ("Zoë 日本 🦆\n", [ByteBuffer(string: "Zoë 日本 🦆")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) {
            LineFrameDecoder(maximumLineLength: 64)
        }
    }

    @Test("passes the verifier with lines of exactly the maximum length")
    func verifierAtLimit() throws {
        let exact = String(repeating: "x", count: 16)
        let pairs: [(String, [ByteBuffer])] = [
            (exact + "\n", [ByteBuffer(string: exact)]),
            (exact + "\r\n", [ByteBuffer(string: exact)]),
            ("short\n", [ByteBuffer(string: "short")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) {
            LineFrameDecoder(maximumLineLength: 16)
        }
    }

    @Test("passes the verifier when sharing a limit")
    func verifierShared() throws {
        let pairs: [(String, [ByteBuffer])] = [
            ("QUERY ORG\n", [ByteBuffer(string: "QUERY ORG")]),
            ("a\r\nb\n", [ByteBuffer(string: "a"), ByteBuffer(string: "b")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) {
            LineFrameDecoder(limit: LineLengthLimit(10))
        }
    }

    // MARK: - Limits

    @Test("a terminated line longer than the maximum throws, shorter ones pass")
    func overlongLine() throws {
        let processor = NIOSingleStepByteToMessageProcessor(LineFrameDecoder(maximumLineLength: 8))
        var lines: [ByteBuffer] = []
        try processor.process(buffer: ByteBuffer(string: "12345678\r\n")) { lines.append($0) }
        #expect(lines == [ByteBuffer(string: "12345678")])

        let error = #expect(throws: ProtocolError.self) {
            try processor.process(buffer: ByteBuffer(string: "123456789\n")) { lines.append($0) }
        }
        #expect(error?.kind == .lineTooLong)
        #expect(error?.errorCode == .limit)
        #expect(error?.message == "line longer than 8 bytes")
        #expect(error?.column == nil)
        #expect(lines.count == 1)
    }

    @Test("a stream without a newline throws as soon as the limit is passed")
    func unboundedStream() throws {
        let limit = 1_000
        var decoder = LineFrameDecoder(maximumLineLength: limit)
        var buffer = ByteBuffer()
        var bytesFed = 0
        var thrown: ProtocolError? = nil
        // One byte at a time: the decoder must give up at byte limit + 1, never later.
        while bytesFed < 10 * limit {
            buffer.writeInteger(UInt8(ascii: "a"))
            bytesFed += 1
            do {
                #expect(try decoder.decode(buffer: &buffer) == nil)
            } catch let error as ProtocolError {
                thrown = error
                break
            }
        }
        #expect(thrown?.kind == .lineTooLong)
        #expect(bytesFed == limit + 1)
        #expect(buffer.readableBytes == limit + 1)
    }

    @Test("through a processor, buffered bytes never exceed the limit plus one read")
    func boundedBuffering() throws {
        let processor = NIOSingleStepByteToMessageProcessor(LineFrameDecoder(maximumLineLength: 100))
        var chunks = 0
        let error = #expect(throws: ProtocolError.self) {
            while chunks < 1_000 {
                #expect(processor.unprocessedBytes <= 100 + 1)
                try processor.process(buffer: ByteBuffer(string: "0123456789")) { _ in
                    Issue.record("no line should be produced")
                }
                chunks += 1
            }
        }
        #expect(error?.kind == .lineTooLong)
        #expect(chunks == 10)
    }

    @Test("a trailing CR at the limit waits for its LF; anything else past it throws")
    func carriageReturnAtLimit() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 4)
        var buffer = ByteBuffer(string: "abcd\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        #expect(try decoder.decode(buffer: &buffer) == ByteBuffer(string: "abcd"))
        #expect(buffer.readableBytes == 0)

        var other = LineFrameDecoder(maximumLineLength: 4)
        var overflow = ByteBuffer(string: "abcd\rx")
        #expect(throws: ProtocolError.self) { try other.decode(buffer: &overflow) }

        var plain = LineFrameDecoder(maximumLineLength: 4)
        var five = ByteBuffer(string: "abcde")
        #expect(throws: ProtocolError.self) { try plain.decode(buffer: &five) }
    }

    @Test("one large read with no newline throws without waiting for more")
    func largeRead() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 8_192)
        var buffer = ByteBuffer(repeating: UInt8(ascii: "A"), count: 100_000)
        let error = #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error?.kind == .lineTooLong)
    }

    @Test("a newline far beyond the limit in one read still throws")
    func newlineBeyondLimit() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 10)
        var buffer = ByteBuffer(string: String(repeating: "A", count: 50) + "\nPING\n")
        #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
    }

    @Test("complete lines before an overlong one are still delivered")
    func linesBeforeOverlong() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 4)
        var buffer = ByteBuffer(string: "ab\ncd\nefghijkl")
        #expect(try decoder.decode(buffer: &buffer) == ByteBuffer(string: "ab"))
        #expect(try decoder.decode(buffer: &buffer) == ByteBuffer(string: "cd"))
        #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
    }

    // MARK: - Run-time changes

    @Test("a shared limit can be raised and lowered while bytes flow")
    func sharedLimit() throws {
        let limit = LineLengthLimit(ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication)
        let processor = NIOSingleStepByteToMessageProcessor(LineFrameDecoder(limit: limit))
        var lines: [ByteBuffer] = []
        let longLine = String(repeating: "m", count: 20_000)

        try processor.process(buffer: ByteBuffer(string: "BIND alice secret\n")) { lines.append($0) }
        // The first part of a long line arrives before the limit is raised, the rest after.
        try processor.process(buffer: ByteBuffer(string: "MODIFY ORG logo=")) { lines.append($0) }
        limit.maximumLineLength = ProtocolLimits.defaultMaximumLineLengthAfterAuthentication
        try processor.process(buffer: ByteBuffer(string: longLine + "\n")) { lines.append($0) }
        #expect(lines == [ByteBuffer(string: "BIND alice secret"), ByteBuffer(string: "MODIFY ORG logo=" + longLine)])

        limit.maximumLineLength = 4
        #expect(throws: ProtocolError.self) {
            try processor.process(buffer: ByteBuffer(string: "WHOAMI\n")) { lines.append($0) }
        }
        #expect(lines.count == 2)
    }

    @Test("the same long line is refused before the limit is raised")
    func sharedLimitNotRaised() throws {
        let limit = LineLengthLimit(ProtocolLimits.defaultMaximumLineLengthBeforeAuthentication)
        var decoder = LineFrameDecoder(limit: limit)
        var buffer = ByteBuffer(string: "MODIFY ORG logo=" + String(repeating: "m", count: 20_000) + "\n")
        #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(decoder.maximumLineLength == 8_192)
        decoder.maximumLineLength = 9_000
        #expect(limit.maximumLineLength == 9_000)
    }

    @Test("lowering a fixed limit applies to the bytes already buffered")
    func lowerFixedLimit() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 100)
        var buffer = ByteBuffer(string: "0123456789")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        decoder.maximumLineLength = 5
        #expect(decoder.maximumLineLength == 5)
        #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
    }

    // MARK: - End of input

    @Test("a final unterminated line is discarded at EOF")
    func partialLineAtEOF() throws {
        let processor = NIOSingleStepByteToMessageProcessor(LineFrameDecoder(maximumLineLength: 64))
        var lines: [ByteBuffer] = []
        try processor.process(buffer: ByteBuffer(string: "PING\nDELETE USER al")) { lines.append($0) }
        try processor.finishProcessing(seenEOF: true) { lines.append($0) }
        #expect(lines == [ByteBuffer(string: "PING")])
        #expect(processor.unprocessedBytes == 0)
    }

    @Test("decodeLast still delivers complete lines before discarding the rest")
    func decodeLast() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 64)
        var buffer = ByteBuffer(string: "a\nb\nc")
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == ByteBuffer(string: "a"))
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == ByteBuffer(string: "b"))
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test("without EOF, decodeLast leaves a partial line for whoever takes over")
    func decodeLastWithoutEOF() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 64)
        var buffer = ByteBuffer(string: "partial")
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: false) == nil)
        #expect(buffer == ByteBuffer(string: "partial"))
    }
}
