import DeputyProtocol
import NIOCore
import Testing

@Suite("RequestLine parser")
struct RequestParserTests {
    // MARK: - Shape

    @Test("a verb alone has no arguments")
    func verbAlone() throws {
        let request = try #require(try RequestParser.parse("PING"))
        #expect(request.verb == "PING")
        #expect(request.arguments.isEmpty)
    }

    @Test("verbs are case-insensitive and uppercased", arguments: ["ping", "Ping", "pInG", "PING"])
    func caseInsensitiveVerb(line: String) throws {
        let request = try #require(try RequestParser.parse(line))
        #expect(request.verb == "PING")
    }

    @Test("blank lines parse to nil", arguments: ["", " ", "\t", "  \t  ", "\n", "\r\n", "   \r\n"])
    func blankLine(line: String) throws {
        #expect(try RequestParser.parse(line) == nil)
    }

    @Test("LF and CRLF terminators give the same request")
    func terminators() throws {
        let bare = try RequestParser.parse("BIND alice secret")
        let lf = try RequestParser.parse("BIND alice secret\n")
        let crlf = try RequestParser.parse("BIND alice secret\r\n")
        #expect(bare != nil)
        #expect(lf == bare)
        #expect(crlf == bare)
    }

    @Test("separators may be several spaces or tabs, also leading and trailing")
    func separators() throws {
        let request = try #require(try RequestParser.parse(" \tBIND  \t alice\t\tsecret \t"))
        #expect(request.verb == "BIND")
        #expect(request.positionals == ["alice", "secret"])
    }

    @Test("the same line parses equally from String, Substring, [UInt8] and ByteBuffer")
    func inputForms() throws {
        let line = #"ADD USER "al ice" name="A \"L\"" x=é"#
        let fromString = try RequestParser.parse(line)
        let fromSubstring = try RequestParser.parse(Substring("..." + line).dropFirst(3))
        let fromBytes = try RequestParser.parse(Array(line.utf8))
        let fromBuffer = try RequestParser.parse(ByteBuffer(string: line))
        #expect(fromString != nil)
        #expect(fromSubstring == fromString)
        #expect(fromBytes == fromString)
        #expect(fromBuffer == fromString)
    }

    // MARK: - Named arguments

    @Test("named arguments are split at the first equals sign and keep their order")
    func namedArguments() throws {
        let request = try #require(try RequestParser.parse("MODIFY USER bob name=Bob filter=a=b policy=p1"))
        #expect(
            request.arguments == [
                .positional("USER"), .positional("bob"),
                .named(key: "name", value: "Bob"), .named(key: "filter", value: "a=b"), .named(key: "policy", value: "p1"),
            ]
        )
        #expect(request.named("filter") == "a=b")
        #expect(request.named("missing") == nil)
    }

    @Test("positional arguments after named ones keep their relative order")
    func mixedOrder() throws {
        let request = try #require(try RequestParser.parse("X a k=v b l=w c"))
        #expect(
            request.arguments == [
                .positional("a"), .named(key: "k", value: "v"), .positional("b"), .named(key: "l", value: "w"),
                .positional("c"),
            ]
        )
        #expect(request.positionals == ["a", "b", "c"])
        #expect(request.namedArguments.map(\.key) == ["k", "l"])
    }

    @Test("empty named values: key= and key=\"\"")
    func emptyValues() throws {
        let request = try #require(try RequestParser.parse(#"MODIFY USER bob name= recovery="""#))
        #expect(request.named("name") == "")
        #expect(request.named("recovery") == "")
        #expect(request.positionals == ["USER", "bob"])
    }

    @Test("keys are case-insensitive and lowercased")
    func keyCase() throws {
        let request = try #require(try RequestParser.parse("ADD USER a Name=x POLICY=y"))
        #expect(request.named("name") == "x")
        #expect(request.named("NAME") == "x")
        #expect(request.namedArguments.map(\.key) == ["name", "policy"])
    }

    @Test("keys may contain digits, underscore and hyphen")
    func keyAlphabet() throws {
        let request = try #require(try RequestParser.parse("X a_b-9=1"))
        #expect(request.arguments == [.named(key: "a_b-9", value: "1")])
    }

    @Test("a token whose prefix is not a key is positional even with an equals sign")
    func notAKey() throws {
        let request = try #require(try RequestParser.parse("QUERY SEARCH (mail=x) a.b=c"))
        #expect(request.arguments == [.positional("SEARCH"), .positional("(mail=x)"), .positional("a.b=c")])
    }

    @Test("a quoted token containing an equals sign is positional")
    func quotedEquals() throws {
        let request = try #require(try RequestParser.parse(#"BIND alice "pass=word""#))
        #expect(request.arguments == [.positional("alice"), .positional("pass=word")])
    }

    // MARK: - Quoting

    @Test("quoted strings keep spaces, tabs and non-ASCII")
    func quotedText() throws {
        let request = try #require(try RequestParser.parse("X \"a b\tc\" \"日本 🦆\" \"\""))
        #expect(request.positionals == ["a b\tc", "日本 🦆", ""])
    }

    @Test("raw non-ASCII is fine in bare tokens")
    func bareNonASCII() throws {
        let request = try #require(try RequestParser.parse("X müller@example.org name=Zoë"))
        #expect(request.positionals == ["müller@example.org"])
        #expect(request.named("name") == "Zoë")
    }

    @Test("every allowed escape decodes", arguments: [
        (#""\"""#, "\""), (#""\\""#, "\\"), (#""\n""#, "\n"), (#""\r""#, "\r"), (#""\t""#, "\t"),
        (#""\0""#, "\u{0}"), (#""\x01""#, "\u{1}"), (#""\x7F""#, "\u{7F}"), (#""\x7f""#, "\u{7F}"),
        (#""\x41\x62""#, "Ab"), (#""a\\b\"c""#, "a\\b\"c"),
    ])
    func escapes(token: String, expected: String) throws {
        let request = try #require(try RequestParser.parse("X " + token + " k=" + token))
        #expect(request.positionals == [expected])
        #expect(request.named("k") == expected)
    }

    @Test("a bare backslash outside quotes is literal")
    func bareBackslash() throws {
        let request = try #require(try RequestParser.parse(#"X a\nb"#))
        #expect(request.positionals == [#"a\nb"#])
    }

    // MARK: - Errors

    @Test("invalid UTF-8 is refused with its column")
    func invalidUTF8() throws {
        for (bytes, column) in [
            (Array("PING ab".utf8) + [0xFF], 8),
            (Array("X ".utf8) + [0xC3], 3),  // truncated sequence
            (Array("X ".utf8) + [0xC0, 0xAF], 3),  // overlong
            (Array("X ".utf8) + [0xED, 0xA0, 0x80], 3),  // surrogate
            (Array("X \"".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("\"".utf8), 4),  // above U+10FFFF
        ] {
            do {
                _ = try RequestParser.parse(bytes)
                Issue.record("expected an error for \(bytes)")
            } catch {
                #expect(error.kind == .invalidUTF8)
                #expect(error.column == column)
                #expect(error.errorCode == .syntax)
            }
        }
    }

    @Test("a NUL byte is refused anywhere")
    func nulByte() throws {
        for line in ["PI\u{0}NG", "X \"a\u{0}b\"", "X k=\u{0}"] {
            let error = try #require(requestError(line))
            #expect(error.kind == .nulByte)
        }
        #expect(requestError("PI\u{0}NG")?.column == 3)
    }

    @Test("control characters are refused outside quotes and, except TAB, inside them")
    func controlCharacters() throws {
        let cases: [(String, Int)] = [
            ("X a\u{1}b", 4), ("X \"a\u{1B}b\"", 5), ("X a\rb", 4), ("X \"a\nb\"", 5), ("X k=\u{7F}", 5),
            ("PING\r", 5),
        ]
        for (line, column) in cases {
            let error = try #require(requestError(line))
            #expect(error.kind == .controlCharacter)
            #expect(error.column == column)
        }
    }

    @Test("an unterminated quote reports where it opened")
    func unterminatedQuote() throws {
        let error = try #require(requestError(#"BIND alice "secret"#))
        #expect(error.kind == .unterminatedQuote)
        #expect(error.column == 12)
        #expect(error.message == "unterminated quoted string starting at column 12")
        #expect(requestError(#"X k=""#)?.kind == .unterminatedQuote)
        #expect(requestError(#"X "abc\""#)?.kind == .unterminatedQuote)
    }

    @Test("unknown escapes are refused", arguments: [
        #"X "\q""#, #"X "\x""#, #"X "\x4""#, #"X "\xZZ""#, #"X "\x80""#, #"X "\xFF""#, #"X "\u0041""#, #"X "\ ""#,
        #"X "\'"#, #"X "\"#, #"X k="\a""#,
    ])
    func badEscape(line: String) throws {
        let error = try #require(requestError(line))
        #expect(error.kind == .invalidEscape)
        #expect(error.errorCode == .syntax)
    }

    @Test("the refusal of a bad escape reads the same on the wire as in the text: it names the escapes without a backslash, which a status line would double")
    func badEscapeMessageOnTheWire() throws {
        let error = try #require(requestError(#"ADD USER "a\qb@example.test""#))
        var buffer = ByteBuffer()
        ReplyEncoder.write(.error(code: error.errorCode, text: error.message), into: &buffer)
        let wire = String(buffer: buffer)
        #expect(wire == "ERR syntax invalid escape sequence at column 12; after a backslash only \", backslash, n, r, t, 0 or xHH below 80 may follow\n", "\(wire)")
    }

    @Test("a quote inside a bare token or right after a closing quote is refused")
    func strayQuotes() throws {
        #expect(requestError(#"X ab"c"#)?.kind == .unexpectedQuote)
        #expect(requestError(#"X ab""#)?.kind == .unexpectedQuote)
        #expect(requestError(#"X "a"b"#)?.kind == .missingSeparator)
        #expect(requestError(#"X "a""b""#)?.kind == .missingSeparator)
        #expect(requestError(#"X k="v"w"#)?.kind == .missingSeparator)
        #expect(requestError(#"X k=v"w"#)?.kind == .unexpectedQuote)
    }

    @Test("a token starting with an equals sign has no key")
    func missingKey() throws {
        let error = try #require(requestError("X a =value"))
        #expect(error.kind == .missingKey)
        #expect(error.column == 5)
    }

    @Test("the verb must be a bare alphanumeric word")
    func badVerbs() throws {
        #expect(requestError(#""" a"#)?.kind == .emptyVerb)
        #expect(requestError(#""PING""#)?.kind == .invalidVerb)
        #expect(requestError("PI-NG")?.kind == .invalidVerb)
        #expect(requestError("name=x")?.kind == .invalidVerb)
        #expect(requestError("é")?.kind == .invalidVerb)
        #expect(requestError("=x")?.kind == .invalidVerb)
        #expect(try RequestParser.parse("v2")?.verb == "V2")
    }

    @Test("duplicate keys are refused, ignoring case")
    func duplicateKeys() throws {
        let error = try #require(requestError("MODIFY USER a name=x policy=p NAME=y"))
        #expect(error.kind == .duplicateKey)
        #expect(error.column == 31)
        #expect(error.message == "duplicate named argument name at column 31")
    }

    @Test("the argument count limit is enforced at the first excess argument")
    func tooManyArguments() throws {
        let limit = ProtocolLimits.defaultMaximumArgumentsPerRequest
        let atLimit = "X" + String(repeating: " a", count: limit)
        #expect(try RequestParser.parse(atLimit)?.arguments.count == limit)

        let overLimit = atLimit + " k=v"
        let error = try #require(requestError(overLimit))
        #expect(error.kind == .tooManyArguments)
        #expect(error.errorCode == .limit)
        #expect(error.column == atLimit.utf8.count + 2)

        let small = ProtocolLimits(maximumArgumentsPerRequest: 2)
        #expect(requestError("X a b", limits: small) == nil)
        #expect(requestError("X a b c", limits: small)?.kind == .tooManyArguments)
    }

    @Test("error messages never quote the line")
    func messagesDoNotLeak() throws {
        let secret = "Sup3rS3cret"
        let lines = [
            "BIND alice \"\(secret)", "BIND alice \"\(secret)\\q\"", "BIND alice \(secret)\"x",
            "BIND alice \"\(secret)\"x", "BIND alice \(secret)\u{1}", "\"\(secret)\" x",
        ]
        for line in lines {
            let error = try #require(requestError(line))
            #expect(!error.message.contains(secret))
            #expect(!error.description.contains(secret))
        }
    }

    // MARK: - RequestLine values

    @Test("RequestLine initialisers normalise and refuse bad wire text")
    func requestInit() throws {
        let request = try #require(RequestLine(verb: "bind", positionals: ["a"], named: ["Name": "x"]))
        #expect(request.verb == "BIND")
        #expect(request.arguments == [.positional("a"), .named(key: "name", value: "x")])
        #expect(RequestLine(verb: "") == nil)
        #expect(RequestLine(verb: "BI ND") == nil)
        #expect(RequestLine(verb: "X", arguments: [.named(key: "a b", value: "")]) == nil)
        #expect(RequestLine(verb: "X", arguments: [.named(key: "", value: "")]) == nil)
        #expect(RequestLine(verb: "X", arguments: [.named(key: "a", value: ""), .named(key: "A", value: "")]) == nil)
    }

    @Test("a request's description does not show argument values")
    func redactedDescription() throws {
        let request = try #require(try RequestParser.parse("BIND alice hunter2"))
        #expect(request.description == "BIND (2 arguments)")
        #expect(!"\(request)".contains("hunter2"))
    }
}
