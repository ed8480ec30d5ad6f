import DeputyMailAdapters
import DeputyServer
import NIOCore
import Testing

@Suite("Netstrings")
struct NetstringDecoderTests {
    private func decodeAll(_ text: String, maximum: Int = 100) throws(MailAdapterError) -> [String] {
        var buffer = ByteBuffer(string: text)
        let decoder = NetstringDecoder(maximumLength: maximum)
        var payloads: [String] = []
        while let payload = try decoder.decode(&buffer) { payloads.append(String(buffer: payload)) }
        return payloads
    }

    @Test("one netstring, several in a row, and the empty one")
    func decodes() throws {
        #expect(try decodeAll("24:senders boss@example.org,") == ["senders boss@example.org"])
        #expect(try decodeAll("3:abc,0:,5:a,b:c,") == ["abc", "", "a,b:c"])
    }

    @Test("an incomplete netstring leaves the buffer untouched", arguments: ["", "2", "24", "24:", "24:senders", "3:abc"])
    func incomplete(_ text: String) throws {
        var buffer = ByteBuffer(string: text)
        #expect(try NetstringDecoder(maximumLength: 100).decode(&buffer) == nil)
        #expect(buffer.readableBytes == text.utf8.count)
    }

    @Test("split at every byte, the same payloads come out")
    func splitAtEveryByte() throws {
        let stream = Array("9:NOTFOUND ,41:OK boss@example.org,secretary@example.org,0:,".utf8)
        let expected = try decodeAll(String(decoding: stream, as: UTF8.self))
        #expect(expected.count == 3)
        for split in 0...stream.count {
            var buffer = ByteBuffer()
            var payloads: [String] = []
            let decoder = NetstringDecoder(maximumLength: 100)
            for chunk in [stream[..<split], stream[split...]] {
                buffer.writeBytes(chunk)
                while let payload = try decoder.decode(&buffer) { payloads.append(String(buffer: payload)) }
            }
            #expect(payloads == expected, "split at \(split)")
        }
        // And one byte at a time.
        var buffer = ByteBuffer()
        var payloads: [String] = []
        for byte in stream {
            buffer.writeInteger(byte)
            while let payload = try NetstringDecoder(maximumLength: 100).decode(&buffer) { payloads.append(String(buffer: payload)) }
        }
        #expect(payloads == expected)
    }

    @Test("malformed lengths and terminators are refused", arguments: [":abc,", "x:abc,", "3x:abc,", "-3:abc,", "03:abc,", "00:,", " 3:abc,", "3:abcd,", "3:abc;"])
    func malformed(_ text: String) {
        #expect { try decodeAll(text) } throws: { ($0 as? MailAdapterError)?.code == .malformed }
    }

    @Test("a declared length over the limit is refused before its bytes arrive")
    func overLimit() {
        #expect { try decodeAll("101:", maximum: 100) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
        #expect { try decodeAll("1000", maximum: 100) } throws: { ($0 as? MailAdapterError)?.code == .overLimit }
        #expect { try decodeAll("00000000000000000000001:a,", maximum: 100) } throws: { $0 is MailAdapterError }
        #expect(throws: Never.self) { try decodeAll("100:" + String(repeating: "a", count: 100) + ",", maximum: 100) }
    }

    @Test("encoding round-trips")
    func encoding() throws {
        for payload in ["", "NOTFOUND ", "OK a,b", String(repeating: "x", count: 99)] {
            var buffer = ByteBuffer()
            NetstringDecoder.encode(payload.utf8, into: &buffer)
            #expect(try decodeAll(String(buffer: buffer)) == [payload])
        }
        var buffer = ByteBuffer()
        SocketmapReply.notFound.encode(into: &buffer)
        #expect(String(buffer: buffer) == "9:NOTFOUND ,")
    }
}
