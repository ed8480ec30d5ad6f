import DeputyMailAdapters
import DeputyServer
import NIOCore
import Testing

@Suite("tcp_table encoding and requests")
struct TCPTableTests {
    @Test("%XX encoding", arguments: [
        ("a b%c", "a%20b%25c"), ("boss@example.org", "boss@example.org"), ("tab\there", "tab%09here"),
        ("new\nline", "new%0Aline"), ("del\u{7F}", "del%7F"), ("é", "%C3%A9"), ("", ""),
    ])
    func encode(_ plain: String, _ encoded: String) throws {
        #expect(TCPTableEncoding.encode(plain) == encoded)
        #expect(TCPTableEncoding.decode(Array(encoded.utf8)) == plain)
    }

    @Test("decoding accepts lowercase hex and refuses bad escapes")
    func decode() {
        #expect(TCPTableEncoding.decode(Array("a%2fb%3A".utf8)) == "a/b:")
        for bad in ["%", "%2", "%zz", "a%g0", "%C3"] {
            #expect(TCPTableEncoding.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("every printable and unprintable byte round-trips")
    func roundTrip() {
        let text = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self) + "żółw"
        let encoded = TCPTableEncoding.encode(text)
        #expect(!encoded.utf8.contains { $0 <= 0x20 || $0 >= 0x7F })
        #expect(TCPTableEncoding.decode(Array(encoded.utf8)) == text)
    }

    @Test("requests: get, put, and what is not one")
    func requests() {
        #expect(TCPTableRequest(line: Array("get boss@example.org".utf8)) == .get(key: "boss@example.org"))
        #expect(TCPTableRequest(line: Array("get a%20b".utf8)) == .get(key: "a b"))
        #expect(TCPTableRequest(line: Array("put a%20b c%25".utf8)) == .put(key: "a b", value: "c%"))
        for bad in ["", "get", "GET x", "get a b", "del x", "get %zz", "put x"] {
            #expect(TCPTableRequest(line: Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("replies, and one too long becomes a temporary failure")
    func replies() {
        func encoded(_ reply: TCPTableReply) -> String {
            var buffer = ByteBuffer()
            reply.encode(into: &buffer)
            return String(buffer: buffer)
        }
        #expect(encoded(.found("a b,c")) == "200 a%20b,c\n")
        #expect(encoded(.notFound("not found")) == "500 not%20found\n")
        #expect(encoded(.temporaryFailure("later")) == "400 later\n")
        #expect(encoded(.found(String(repeating: "x", count: 4_091))) == "200 " + String(repeating: "x", count: 4_091) + "\n")
        #expect(encoded(.found(String(repeating: "x", count: 4_092))) == "400 reply%20too%20long\n")
    }
}
