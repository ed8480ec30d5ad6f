import DeputyProtocol
import NIOCore
import Testing

@Suite("RequestLine encoder")
struct RequestEncoderTests {
    @Test("plain tokens are written bare")
    func bare() throws {
        let request = try #require(RequestLine(verb: "query", positionals: ["SENDAS", "alice", "info@example.org"]))
        #expect(RequestEncoder.encode(request) == "QUERY SENDAS alice info@example.org")
    }

    @Test("tokens are quoted only when needed")
    func quoting() throws {
        let request = try #require(
            RequestLine(
                verb: "X",
                positionals: ["a b", "", "a=b", #"q"q"#, #"b\s"#, "tab\there", "ok", "é"],
                named: ["k": "v=w", "e": "", "s": "two words", "n": "line\nbreak", "c": "\u{1}\u{7F}\r\u{0}"]
            )
        )
        #expect(
            RequestEncoder.encode(request)
                == #"X "a b" "" "a=b" "q\"q" "b\\s" "tab\there" ok é k=v=w e="" s="two words" n="line\nbreak" c="\x01\x7F\r\0""#
        )
    }

    @Test("write appends the line and a single LF")
    func write() throws {
        let request = try #require(RequestLine(verb: "PING"))
        var buffer = ByteBuffer(string: "prefix|")
        RequestEncoder.write(request, into: &buffer)
        #expect(String(buffer: buffer) == "prefix|PING\n")
    }

    @Test("encoded requests parse back to equal requests")
    func examplesRoundTrip() throws {
        let requests: [RequestLine?] = [
            RequestLine(verb: "BIND", positionals: ["alice@example.org", "pass=word \"quoted\" \\ end"]),
            RequestLine(verb: "MODIFY", positionals: ["USER", "bob"], named: ["name": "", "recovery": "x y", "policy": "=p"]),
            RequestLine(verb: "X", arguments: [.named(key: "a", value: "1"), .positional("after"), .named(key: "b", value: "2")]),
        ]
        for request in requests {
            let request = try #require(request)
            #expect(try RequestParser.parse(RequestEncoder.encode(request)) == request)
        }
    }

    @Test("random requests round-trip exactly")
    func randomRoundTrip() throws {
        var generator = SeededGenerator(seed: 0x5EED_0001)
        let allocator = ByteBufferAllocator()
        for _ in 0..<500 {
            var arguments: [RequestLine.Argument] = []
            var keys = Set<String>()
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                if Bool.random(using: &generator) {
                    arguments.append(.positional(generator.nextAwkwardString()))
                } else {
                    let key = generator.nextKey(lowercase: true)
                    guard keys.insert(key).inserted else { continue }
                    arguments.append(.named(key: key, value: generator.nextAwkwardString()))
                }
            }
            let request = try #require(RequestLine(verb: "VERB", arguments: arguments))

            var buffer = allocator.buffer(capacity: 64)
            RequestEncoder.write(request, into: &buffer)
            let encoded = bytes(of: buffer)
            #expect(encoded.last == 0x0A)
            #expect(encoded.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x0D && $0 != 0x00 })

            let parsed = try #require(try RequestParser.parse(buffer))
            #expect(parsed == request)
            // Equality of String is canonical equivalence; the bytes must match too.
            #expect(parsed.arguments.map(Self.utf8) == request.arguments.map(Self.utf8))
        }
    }

    private static func utf8(_ argument: RequestLine.Argument) -> [UInt8] {
        switch argument {
        case .positional(let value): Array(value.utf8)
        case .named(let key, let value): Array(key.utf8) + [0x3D] + Array(value.utf8)
        }
    }
}
