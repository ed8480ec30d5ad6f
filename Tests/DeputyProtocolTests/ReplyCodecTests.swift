import DeputyProtocol
import NIOCore
import Testing

@Suite("Reply encoder and parser")
struct ReplyCodecTests {
    private func encode(_ reply: Reply) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        ReplyEncoder.write(reply, into: &buffer)
        return String(buffer: buffer)
    }

    // MARK: - Encoding

    @Test("records write bare values bare and quote the rest")
    func recordEncoding() {
        let record: ReplyRecord = [
            "mail": "alice@example.org", "name": "Alice Liddell", "dn": "uid=alice,dc=example,dc=org", "empty": "",
            "q": #"say "hi""#, "bs": #"a\b"#, "ctl": "a\tb\u{1}\u{7F}", "utf": "Zoë",
        ]
        var buffer = ByteBuffer()
        let written = ReplyEncoder.write(record, into: &buffer)
        let expected =
            #"* mail=alice@example.org name="Alice Liddell" dn=uid=alice,dc=example,dc=org empty="" q="say \"hi\"" bs="a\\b" ctl="a\tb\x01\x7F" utf=Zoë"#
            + "\n"
        #expect(String(buffer: buffer) == expected)
        #expect(written == buffer.readableBytes)
    }

    @Test("an empty record is a lone asterisk")
    func emptyRecord() throws {
        #expect(encode(Reply(records: [ReplyRecord()], status: .ok(text: nil))) == "*\nOK\n")
        #expect(try ReplyParser.parse("*") == .record(ReplyRecord()))
        #expect(try ReplyParser.parse("* ") == .record(ReplyRecord()))
    }

    @Test("status lines", arguments: [
        (ReplyStatus.ok(text: nil), "OK\n"),
        (ReplyStatus.ok(text: ""), "OK \n"),
        (ReplyStatus.ok(text: "3 entries"), "OK 3 entries\n"),
        (ReplyStatus.error(code: .notfound, text: #"no such user "bob""#), "ERR notfound no such user \"bob\"\n"),
        (ReplyStatus.error(code: .syntax, text: ""), "ERR syntax\n"),
        (ReplyStatus.error(code: .internal, text: "a\\b\r\nOK x\u{0}"), #"ERR internal a\\b\r\nOK x\0"# + "\n"),
    ])
    func statusEncoding(status: ReplyStatus, wire: String) throws {
        #expect(encode(Reply(status: status)) == wire)
        #expect(try ReplyParser.parse(wire) == .status(status))
    }

    @Test("a whole reply writes records then the status")
    func wholeReply() {
        let reply = Reply(records: [["mail": "a@x"], ["mail": "b@x"]], status: .ok(text: "2 entries"))
        #expect(encode(reply) == "* mail=a@x\n* mail=b@x\nOK 2 entries\n")
    }

    @Test("a status built from a protocol error carries its code and message")
    func statusFromError() throws {
        let error = try #require(requestError(#"X "a"#))
        #expect(ReplyStatus(error) == .error(code: .syntax, text: "unterminated quoted string starting at column 3"))
    }

    // MARK: - Parsing

    @Test("data lines parse into ordered fields, repeated keys included")
    func recordParsing() throws {
        let line = #"* member=a@x name="A \"B\"" member=b@x empty= quoted="" eq=a=b"#
        guard case .record(let record) = try ReplyParser.parse(line) else {
            Issue.record("expected a record")
            return
        }
        #expect(record.fields.map(\.key) == ["member", "name", "member", "empty", "quoted", "eq"])
        #expect(record.values(for: "member") == ["a@x", "b@x"])
        #expect(record["name"] == #"A "B""#)
        #expect(record["empty"] == "")
        #expect(record["quoted"] == "")
        #expect(record["eq"] == "a=b")
        #expect(record["missing"] == nil)
    }

    @Test("reply lines are parsed equally with LF, CRLF or no terminator")
    func replyTerminators() throws {
        let expected = ReplyLine.record(["k": "v"])
        #expect(try ReplyParser.parse("* k=v") == expected)
        #expect(try ReplyParser.parse("* k=v\n") == expected)
        #expect(try ReplyParser.parse(ByteBuffer(string: "* k=v\r\n")) == expected)
        #expect(try ReplyParser.parse(Array("* k=v".utf8)) == expected)
    }

    @Test("unknown but well-formed error codes are accepted")
    func unknownErrorCode() throws {
        let line = try ReplyParser.parse("ERR quota2 over quota")
        #expect(line == .status(.error(code: ErrorCode(rawValue: "quota2")!, text: "over quota")))
    }

    @Test("malformed reply lines are refused", arguments: [
        "", "HELLO", "ok", "OKAY", "ERR", "ERR ", "ERR NotFound x", "ERR not-found x", "*k=v", "* k", "* =v", "* k=v junk",
        #"* k="v"#, #"* k="\q""#, "* k=a\u{1}b", "OK a\u{1}b", #"OK bad \q escape"#, "* k=\"v\"x",
    ])
    func malformed(line: String) throws {
        let error = try #require(replyError(line))
        #expect(error.errorCode == .syntax)
    }

    @Test("at the default limits, a group entry with more than a thousand members is read")
    func largeGroupEntry() throws {
        let members = (1...5_000).map { "member=user\($0)@example.test" }.joined(separator: " ")
        let line = try ReplyParser().parse("* dn=cn=big,ou=groups,dc=example,dc=test mail=big@example.test \(members)")
        guard case .record(let record) = line else {
            Issue.record("not a record: \(line)")
            return
        }
        #expect(record.values(for: "member").count == 5_000)
    }

    @Test("the fields-per-record limit is enforced")
    func fieldLimit() throws {
        let parser = ReplyParser(limits: ProtocolLimits(maximumFieldsPerRecord: 2))
        #expect(throws: Never.self) { try parser.parse("* a=1 b=2") }
        let error = #expect(throws: ProtocolError.self) { try parser.parse("* a=1 b=2 c=3") }
        #expect(error?.kind == .tooManyFields)
        #expect(error?.errorCode == .limit)
    }

    // MARK: - Records and codes

    @Test("record keys are validated")
    func recordKeys() {
        #expect(ReplyRecord.Field(key: "ok_key-1", value: "") != nil)
        #expect(ReplyRecord.Field(key: "", value: "x") == nil)
        #expect(ReplyRecord.Field(key: "a=b", value: "x") == nil)
        #expect(ReplyRecord.Field(key: "a b", value: "x") == nil)
        #expect(ReplyRecord.Field(key: "é", value: "x") == nil)
    }

    @Test("error codes are lowercase words, known or not")
    func errorCodes() {
        #expect(ErrorCode.allKnown.map(\.rawValue) == [
            "syntax", "unknown", "auth", "denied", "reauth", "notfound", "exists", "conflict", "invalid", "policy",
            "limit", "storage", "internal", "unavailable",
        ])
        for code in ErrorCode.allKnown {
            #expect(ErrorCode(rawValue: code.rawValue) == code)
            #expect(!code.summary.isEmpty)
            #expect(code.summary != ErrorCode(rawValue: "future")!.summary)
        }
        #expect(ErrorCode(rawValue: "") == nil)
        #expect(ErrorCode(rawValue: "Syntax") == nil)
        #expect(ErrorCode(rawValue: "9lives") == nil)
        #expect(ErrorCode(rawValue: "two words") == nil)
        #expect(ErrorCode(rawValue: String(repeating: "a", count: 33)) == nil)
    }

    // MARK: - Greeting

    @Test("the greeting round-trips through its status line")
    func greeting() throws {
        let greeting = try #require(Greeting(version: "1.4.0"))
        #expect(encode(Reply(status: greeting.status)) == "OK deputyd 1.4.0 ready\n")
        guard case .status(let status) = try ReplyParser.parse("OK deputyd 1.4.0 ready") else {
            Issue.record("expected a status")
            return
        }
        #expect(Greeting(status)?.version == "1.4.0")
        #expect(Greeting(.ok(text: "deputyd ready")) == nil)
        #expect(Greeting(.ok(text: nil)) == nil)
        #expect(Greeting(.error(code: .unavailable, text: "deputyd 1 ready")) == nil)
        #expect(Greeting(version: "1 0") == nil)
        #expect(Greeting(version: "") == nil)
    }

    // MARK: - Accumulator

    @Test("the accumulator yields a reply at each status line")
    func accumulator() throws {
        var accumulator = ReplyAccumulator()
        let lines = ["OK deputyd 1.0 ready", "* mail=a@x", "* mail=b@x", "OK 2 entries", "ERR denied no"]
        var replies: [Reply] = []
        for line in lines {
            if let reply = try accumulator.append(line: ByteBuffer(string: line)) {
                replies.append(reply)
            }
        }
        #expect(
            replies == [
                Reply(status: .ok(text: "deputyd 1.0 ready")),
                Reply(records: [["mail": "a@x"], ["mail": "b@x"]], status: .ok(text: "2 entries")),
                Reply(status: .error(code: .denied, text: "no")),
            ]
        )
        #expect(accumulator.pendingRecordCount == 0)
    }

    @Test("the accumulator enforces the records-per-reply limit")
    func recordLimit() throws {
        var accumulator = ReplyAccumulator(limits: ProtocolLimits(maximumRecordsPerReply: 2))
        #expect(try accumulator.append(.record(["a": "1"])) == nil)
        #expect(try accumulator.append(.record(["a": "2"])) == nil)
        #expect(accumulator.pendingRecordCount == 2)
        let error = #expect(throws: ProtocolError.self) { try accumulator.append(.record(["a": "3"])) }
        #expect(error?.kind == .tooManyRecords)
        #expect(accumulator.pendingRecordCount == 0)
    }

    // MARK: - Injection

    @Test("a value with CR LF cannot forge a status line")
    func injection() throws {
        let record: ReplyRecord = ["name": "x\r\nOK injected"]
        var buffer = ByteBuffer()
        ReplyEncoder.write(record, into: &buffer)
        let encoded = bytes(of: buffer)
        #expect(encoded.filter { $0 == 0x0A }.count == 1)
        #expect(encoded.last == 0x0A)
        #expect(!encoded.contains(0x0D))
        #expect(String(buffer: buffer) == #"* name="x\r\nOK injected""# + "\n")
        #expect(try ReplyParser.parse(buffer) == .record(record))

        var status = ByteBuffer()
        ReplyEncoder.write(ReplyStatus.error(code: .invalid, text: "bad\nOK injected"), into: &status)
        #expect(bytes(of: status).filter { $0 == 0x0A }.count == 1)
        #expect(String(buffer: status) == #"ERR invalid bad\nOK injected"# + "\n")
    }
}
