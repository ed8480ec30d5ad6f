import NIOCore

/// Parses one reply line, for clients.
///
/// ```
/// data   = "*" [ SP field *( 1*SEP field ) ] *SEP
/// field  = key "=" [ bare / quoted ]          ; key = 1*( ALPHA / DIGIT / "_" / "-" ), exact case
/// status = "OK" [ SP text ] / "ERR" SP code [ SP text ]
/// code   = LOWER *( LOWER / DIGIT )
/// text   = free text with the escapes \\ \" \n \r \t \0 \xHH decoded
/// ```
///
/// Bare values and quoted strings follow the request grammar (see ``RequestParser``).
///
/// ```swift
/// try ReplyParser.parse("* mail=alice@example.org name=\"Alice Liddell\"")
/// // .record(["mail": "alice@example.org", "name": "Alice Liddell"])
/// ```
public struct ReplyParser: Sendable {
    /// The limits applied while parsing; only `maximumFieldsPerRecord` is used here.
    public var limits: ProtocolLimits

    /// Creates a parser with the given limits.
    public init(limits: ProtocolLimits = .default) {
        self.limits = limits
    }

    // MARK: - Entry points

    /// Parses a line held in a `ByteBuffer` (its readable bytes, without or with its terminator).
    public func parse(_ line: ByteBuffer) throws(ProtocolError) -> ReplyLine {
        try line.withUnsafeReadableBytes { raw in
            Result { () throws(ProtocolError) in try self.parse(raw.bindMemory(to: UInt8.self)) }
        }.get()
    }

    /// Parses a line given as bytes.
    public func parse(_ line: [UInt8]) throws(ProtocolError) -> ReplyLine {
        try line.withUnsafeBufferPointer { bytes in
            Result { () throws(ProtocolError) in try self.parse(bytes) }
        }.get()
    }

    /// Parses a line given as text.
    public func parse(_ line: Substring) throws(ProtocolError) -> ReplyLine {
        var line = line
        return try line.withUTF8 { bytes in
            Result { () throws(ProtocolError) in try self.parse(bytes) }
        }.get()
    }

    /// Parses a line given as text.
    public func parse(_ line: String) throws(ProtocolError) -> ReplyLine {
        try self.parse(Substring(line))
    }

    /// Parses a line with the default limits.
    public static func parse(_ line: ByteBuffer) throws(ProtocolError) -> ReplyLine {
        try ReplyParser().parse(line)
    }

    /// Parses a line with the default limits.
    public static func parse(_ line: [UInt8]) throws(ProtocolError) -> ReplyLine {
        try ReplyParser().parse(line)
    }

    /// Parses a line with the default limits.
    public static func parse(_ line: Substring) throws(ProtocolError) -> ReplyLine {
        try ReplyParser().parse(line)
    }

    /// Parses a line with the default limits.
    public static func parse(_ line: String) throws(ProtocolError) -> ReplyLine {
        try ReplyParser().parse(line)
    }

    // MARK: - Grammar

    func parse(_ line: UnsafeBufferPointer<UInt8>) throws(ProtocolError) -> ReplyLine {
        let bytes = LineValidation.strippingTerminator(line)
        try LineValidation.validate(bytes)
        var scanner = WireScanner(bytes)

        if scanner.consume(WireByte.asterisk) {
            return .record(try self.parseRecord(&scanner))
        }
        if scanner.consume(prefix: "OK") {
            if scanner.isAtEnd { return .status(.ok(text: nil)) }
            guard scanner.consume(WireByte.space) else {
                throw ProtocolError(.malformedReply("expected a space after OK"), column: scanner.column)
            }
            return .status(.ok(text: try scanner.readStatusText()))
        }
        if scanner.consume(prefix: "ERR ") {
            let code = try Self.parseErrorCode(&scanner)
            if scanner.isAtEnd { return .status(.error(code: code, text: "")) }
            guard scanner.consume(WireByte.space) else {
                throw ProtocolError(.malformedReply("expected a space after the error code"), column: scanner.column)
            }
            return .status(.error(code: code, text: try scanner.readStatusText()))
        }
        throw ProtocolError(.malformedReply("expected *, OK or ERR"), column: 1)
    }

    private func parseRecord(_ scanner: inout WireScanner) throws(ProtocolError) -> ReplyRecord {
        var record = ReplyRecord()
        if scanner.isAtEnd { return record }
        guard scanner.consume(WireByte.space) else {
            throw ProtocolError(.malformedReply("expected a space after *"), column: scanner.column)
        }
        while true {
            scanner.skipSeparators()
            if scanner.isAtEnd { break }
            guard record.fields.count < self.limits.maximumFieldsPerRecord else {
                throw ProtocolError(.tooManyFields(limit: self.limits.maximumFieldsPerRecord), column: scanner.column)
            }
            let column = scanner.column
            guard let key = scanner.readKeyAndEquals() else {
                throw ProtocolError(.malformedReply("expected key=value"), column: column)
            }
            record.append(ReplyRecord.Field(validatedKey: key, value: try scanner.readValue()))
        }
        return record
    }

    private static func parseErrorCode(_ scanner: inout WireScanner) throws(ProtocolError) -> ErrorCode {
        let column = scanner.column
        let start = scanner.position
        while let byte = scanner.current, byte != WireByte.space {
            _ = scanner.consume(byte)
        }
        guard let code = ErrorCode(rawValue: scanner.string(start..<scanner.position)) else {
            throw ProtocolError(.malformedReply("invalid error code"), column: column)
        }
        return code
    }
}
