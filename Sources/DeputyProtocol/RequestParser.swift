import NIOCore

/// Parses one request line into a ``RequestLine``.
///
/// Grammar (the line is given without its LF or CRLF terminator):
///
/// ```
/// line       = *SEP [ verb *( 1*SEP argument ) *SEP ]
/// SEP        = SP / HTAB
/// verb       = 1*( ALPHA / DIGIT )               ; case-insensitive, uppercased
/// argument   = named / positional
/// named      = key "=" [ value ]                 ; key case-insensitive, lowercased
/// key        = 1*( ALPHA / DIGIT / "_" / "-" )
/// value      = bare / quoted
/// positional = bare / quoted
/// bare       = 1*( any UTF-8 except SEP, DQUOTE and control characters )
/// quoted     = DQUOTE *( char / TAB / escape ) DQUOTE
/// escape     = "\" ( DQUOTE / "\" / "n" / "r" / "t" / "0" / "x" HEXDIG HEXDIG )  ; \xHH < 80
/// ```
///
/// A bare token whose text before its first `=` is a valid key is a named argument; any other
/// bare token is positional, so `a.b=c` is the positional `a.b=c` and `=x` is an error.
/// A closing quote must be followed by a separator or the end of the line.
///
/// ```swift
/// let request = try RequestParser.parse("bind alice \"pass word\"")
/// // request?.verb == "BIND", request?.positionals == ["alice", "pass word"]
/// ```
public struct RequestParser: Sendable {
    /// The limits applied while parsing; only `maximumArgumentsPerRequest` is used here.
    public var limits: ProtocolLimits

    /// Creates a parser with the given limits.
    public init(limits: ProtocolLimits = .default) {
        self.limits = limits
    }

    // MARK: - Entry points

    /// Parses a line held in a `ByteBuffer` (its readable bytes); returns `nil` for a blank line.
    public func parse(_ line: ByteBuffer) throws(ProtocolError) -> RequestLine? {
        try line.withUnsafeReadableBytes { raw in
            Result { () throws(ProtocolError) in try self.parse(raw.bindMemory(to: UInt8.self)) }
        }.get()
    }

    /// Parses a line given as bytes; returns `nil` for a blank line.
    public func parse(_ line: [UInt8]) throws(ProtocolError) -> RequestLine? {
        try line.withUnsafeBufferPointer { bytes in
            Result { () throws(ProtocolError) in try self.parse(bytes) }
        }.get()
    }

    /// Parses a line given as text; returns `nil` for a blank line.
    public func parse(_ line: Substring) throws(ProtocolError) -> RequestLine? {
        var line = line
        return try line.withUTF8 { bytes in
            Result { () throws(ProtocolError) in try self.parse(bytes) }
        }.get()
    }

    /// Parses a line given as text; returns `nil` for a blank line.
    public func parse(_ line: String) throws(ProtocolError) -> RequestLine? {
        try self.parse(Substring(line))
    }

    /// Parses a line with the default limits; returns `nil` for a blank line.
    public static func parse(_ line: ByteBuffer) throws(ProtocolError) -> RequestLine? {
        try RequestParser().parse(line)
    }

    /// Parses a line with the default limits; returns `nil` for a blank line.
    public static func parse(_ line: [UInt8]) throws(ProtocolError) -> RequestLine? {
        try RequestParser().parse(line)
    }

    /// Parses a line with the default limits; returns `nil` for a blank line.
    public static func parse(_ line: Substring) throws(ProtocolError) -> RequestLine? {
        try RequestParser().parse(line)
    }

    /// Parses a line with the default limits; returns `nil` for a blank line.
    public static func parse(_ line: String) throws(ProtocolError) -> RequestLine? {
        try RequestParser().parse(line)
    }

    // MARK: - Grammar

    func parse(_ line: UnsafeBufferPointer<UInt8>) throws(ProtocolError) -> RequestLine? {
        let bytes = LineValidation.strippingTerminator(line)
        try LineValidation.validate(bytes)

        var scanner = WireScanner(bytes)
        scanner.skipSeparators()
        if scanner.isAtEnd { return nil }

        let verb = try Self.readVerb(&scanner)
        var arguments: [RequestLine.Argument] = []
        // Most requests have two to four arguments: one allocation instead of three.
        arguments.reserveCapacity(4)
        var seenKeys = Set<String>()

        while true {
            scanner.skipSeparators()
            guard let first = scanner.current else { break }
            guard arguments.count < self.limits.maximumArgumentsPerRequest else {
                throw ProtocolError(.tooManyArguments(limit: self.limits.maximumArgumentsPerRequest), column: scanner.column)
            }
            let argumentColumn = scanner.column

            if first == WireByte.quote {
                arguments.append(.positional(try scanner.readQuoted()))
            } else if first == WireByte.equals {
                throw ProtocolError(.missingKey, column: argumentColumn)
            } else if let key = scanner.readKeyAndEquals() {
                let key = WireByte.asciiLowercased(key)
                guard seenKeys.insert(key).inserted else {
                    throw ProtocolError(.duplicateKey(key), column: argumentColumn)
                }
                arguments.append(.named(key: key, value: try scanner.readValue()))
            } else {
                // Cannot be empty: the current byte is neither a separator nor a quote.
                arguments.append(.positional(try scanner.readBare()))
            }
        }
        return RequestLine(validatedVerb: verb, arguments: arguments)
    }

    private static func readVerb(_ scanner: inout WireScanner) throws(ProtocolError) -> String {
        let column = scanner.column
        if scanner.current == WireByte.quote {
            let quoted = try scanner.readQuoted()
            throw ProtocolError(quoted.isEmpty ? .emptyVerb : .invalidVerb, column: column)
        }
        let verb = try scanner.readBare()
        guard WireByte.isValidVerb(verb) else {
            throw ProtocolError(.invalidVerb, column: column)
        }
        return WireByte.asciiUppercased(verb)
    }
}
