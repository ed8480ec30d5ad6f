import NIOCore

/// Writes a ``RequestLine`` as a request line, quoting only where the grammar needs it.
///
/// Positional arguments are written bare when they are non-empty and contain no separator,
/// `"`, `\`, `=` or control character; otherwise they are quoted (so a positional containing
/// `=` can never be read back as a named argument). Named values are written bare under the
/// same rule except that `=` is allowed; an empty value is written `key=""`.
///
/// ```swift
/// RequestEncoder.encode(RequestLine(verb: "BIND", positionals: ["alice", "pass word"])!)
/// // BIND alice "pass word"
/// ```
///
/// The output parses back with ``RequestParser`` to an equal request.
public enum RequestEncoder {
    /// The request line, without a terminator.
    public static func encode(_ request: RequestLine) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: Self.estimatedLength(of: request))
        Self.writeLine(request, into: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the request line and its LF terminator to `buffer`.
    public static func write(_ request: RequestLine, into buffer: inout ByteBuffer) {
        Self.writeLine(request, into: &buffer)
        buffer.writeInteger(WireByte.lineFeed)
    }

    private static func writeLine(_ request: RequestLine, into buffer: inout ByteBuffer) {
        buffer.writeString(request.verb)
        for argument in request.arguments {
            buffer.writeInteger(WireByte.space)
            switch argument {
            case .positional(let value):
                WireEscaping.writePositional(value, into: &buffer)
            case .named(let key, let value):
                buffer.writeString(key)
                buffer.writeInteger(WireByte.equals)
                WireEscaping.writeValue(value, into: &buffer)
            }
        }
    }

    private static func estimatedLength(of request: RequestLine) -> Int {
        request.arguments.reduce(request.verb.utf8.count) { total, argument in
            switch argument {
            case .positional(let value): total + value.utf8.count + 3
            case .named(let key, let value): total + key.utf8.count + value.utf8.count + 4
            }
        }
    }
}
