import DeputyProtocol
import NIOCore
import Testing

@Suite("Lookup query parser")
struct LookupQueryParserTests {
    /// What the general path makes of a line: ``RequestParser``, ``VerbSyntax``, then the
    /// entry's decoder; `nil` for a blank line or any error.
    private func generalRequest(_ line: [UInt8]) -> Request? {
        guard let parsed = try? RequestParser().parse(line), let entry = try? VerbSyntax.check(parsed).get() else { return nil }
        return try? entry.decode(parsed)
    }

    @Test("the lookups mail servers send are parsed straight into their requests, in any case and spacing")
    func accepted() {
        let cases: [(String, Request)] = [
            ("QUERY SENDAS bob@example.org sales@example.org", .query(.sendAs(login: "bob@example.org", address: "sales@example.org"))),
            ("query sendas Bob@Example.org x\n", .query(.sendAs(login: "Bob@Example.org", address: "x"))),
            ("  Query\tSendOnBehalf  a@b.c\t d@e.f \r\n", .query(.sendOnBehalf(login: "a@b.c", address: "d@e.f"))),
            ("QUERY DELEGATES boss@example.org", .query(.delegates(mailbox: "boss@example.org"))),
            ("query delegates zoë@exämple.org\r\n", .query(.delegates(mailbox: "zoë@exämple.org"))),
        ]
        for (line, expected) in cases {
            #expect(LookupQueryParser.parse(line) == expected, "\(line)")
            #expect(LookupQueryParser.parse(ByteBuffer(string: line)) == expected, "\(line)")
            #expect(generalRequest(Array(line.utf8)) == expected, "\(line)")
        }
    }

    @Test("a lookup's arguments are read where they lie, in a line that is a slice of a larger read")
    func argumentsInPlace() throws {
        var read = ByteBuffer(string: "PING\r\nQUERY SENDAS Bob@Example.org sales@example.org\r\nPING\r\n")
        read.moveReaderIndex(forwardBy: 6)
        let slice = read.readSlice(length: 46)
        let line = try #require(slice)
        let lookup = try #require(LookupQueryParser.lookup(in: line))
        #expect(lookup.kind == .sendAs)
        #expect(lookup.name == "QUERY SENDAS")
        let arguments = lookup.withArguments { (String(decoding: $0, as: UTF8.self), String(decoding: $1, as: UTF8.self)) }
        #expect(arguments == ("Bob@Example.org", "sales@example.org"))
        #expect(lookup.request == .query(.sendAs(login: "Bob@Example.org", address: "sales@example.org")))
        let delegates = try #require(LookupQueryParser.lookup(in: ByteBuffer(string: "query delegates boss@example.org\n")))
        #expect(delegates.kind == .delegates)
        #expect(delegates.withArguments { ($0.count, $1.count) } == (16, 0))
    }

    @Test("anything else is left to the general parser")
    func declined() {
        let lines = [
            "", "   ", "QUERY", "QUERY SENDAS", "QUERY SENDAS a@b", "QUERY SENDAS a@b c@d e@f", "QUERY DELEGATES", "QUERY DELEGATES a@b c@d",
            "QUERY SENDAS \"a b\" c@d", "QUERY SENDAS a@b c@d revision=3", "QUERY DELEGATES a@b revision=3", "QUERY SENDAS a=b c@d",
            "QUERY SENDASX a@b c@d", "QUERYX SENDAS a@b c@d", "QUER SENDAS a@b c@d", "QUERY ACCESS a@b c@d", "QUERY MAILBOXES a@b",
            "BIND a@b secret", "PING", "QUERY SENDAS a\u{1}b c@d", "QUERY SENDAS a@b c@d\u{7F}", "QUERY\u{0B}SENDAS a@b c@d",
            "QUERY SENDAS a@b c\"d", "QUERY\u{A0}SENDAS a@b c@d",
        ]
        for line in lines {
            #expect(LookupQueryParser.parse(line) == nil, "\(line.debugDescription)")
        }
        // Bytes that are not UTF-8.
        var invalid = ByteBuffer(string: "QUERY DELEGATES a@b")
        invalid.writeBytes([0xC3, 0x28])
        #expect(LookupQueryParser.parse(invalid) == nil)
    }

    @Test("each byte at each place of a long argument: taken where it is plain, left to the general parser where the scan must stop")
    func everyByteInALongArgument() {
        let address = Array("a.rather.long.local.part@example.org".utf8)
        for byte in UInt8.min...UInt8.max {
            // Printable ASCII but a quote or an equals sign: part of the word.
            let plain = byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "=")
            for place in 0..<address.count {
                var argument = address
                argument[place] = byte
                let line = Array("QUERY SENDAS ".utf8) + argument + Array(" b@example.org\n".utf8)
                let lookup = LookupQueryParser.lookup(in: ByteBuffer(bytes: line))
                if plain {
                    #expect(lookup?.request == .query(.sendAs(login: String(decoding: argument, as: UTF8.self), address: "b@example.org")), "\(byte) at \(place)")
                } else if byte == 0x20 || byte == 0x09 {
                    #expect(lookup == nil || lookup?.request == generalRequest(line), "a separator: five words, or a split argument")
                } else {
                    #expect(lookup == nil, "\(byte) at \(place)")
                }
            }
        }
    }

    @Test("every line of 20,000 random ones that it accepts, the general path reads into the same request")
    func agreesWithTheGeneralPath() {
        var generator = SeededGenerator(seed: 0x100C_0B)
        let words = [
            "QUERY", "query", "QuErY", "QUERYS", "SENDAS", "sendas", "SendAs", "SENDONBEHALF", "sendonbehalf", "DELEGATES", "delegates",
            "ACCESS", "BIND", "a@b.c", "Bob@Example.ORG", "é@x.y", "x=y", "revision=1", "=", "\"q r\"", "\"\"", "a\\b", "@", "日本@例え.jp",
            // Long ones, with and without a byte the scan must stop at somewhere inside.
            "a.rather.long.local.part@example.org", "another.long.address.x@example.org", "long.with=equals.inside@example.org",
            "long.with\"quote.inside@example.org", "long.not.ascii.inside.é.x@example.org",
        ]
        let separators: [[UInt8]] = [[0x20], [0x09], [0x20, 0x20], [0x09, 0x20]]
        let terminators: [[UInt8]] = [[], [0x0A], [0x0D, 0x0A], [0x0D]]
        var accepted = 0
        for _ in 0..<20_000 {
            var line: [UInt8] = Bool.random(using: &generator) ? [] : separators.randomElement(using: &generator)!
            // Mostly a verb and a subverb that the parser takes, so that most lines get as far
            // as their arguments.
            if Int.random(in: 0..<4, using: &generator) > 0 {
                line += Array(words[Int.random(in: 0...2, using: &generator)].utf8) + separators.randomElement(using: &generator)!
                line += Array(words[Int.random(in: 4...10, using: &generator)].utf8)
            }
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                line += separators.randomElement(using: &generator)! + Array(words.randomElement(using: &generator)!.utf8)
            }
            if Int.random(in: 0..<20, using: &generator) == 0 {
                // A stray byte anywhere: a control, DEL, a quote, or a byte that is not UTF-8.
                let stray: [UInt8] = [0x00, 0x01, 0x0B, 0x7F, 0x22, 0x3D, 0xFF, 0xC3]
                line.insert(stray.randomElement(using: &generator)!, at: Int.random(in: 0...line.count, using: &generator))
            }
            if Bool.random(using: &generator) { line += separators.randomElement(using: &generator)! }
            line += terminators.randomElement(using: &generator)!
            guard let lookup = LookupQueryParser.lookup(in: ByteBuffer(bytes: line)) else { continue }
            accepted += 1
            let request = lookup.request
            #expect(generalRequest(line) == request, "\(String(decoding: line, as: UTF8.self).debugDescription)")
            #expect(lookup.name == request.name)
        }
        // Not a vacuous agreement: a good share of the lines were taken.
        #expect(accepted > 1_000)
    }
}
