import DeputyProtocol
import NIOCore

/// A small deterministic generator (SplitMix64), so randomized tests fail reproducibly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// Scalars chosen to stress the grammar: separators, quotes, backslashes, `=`, every C0
    /// control, DEL, non-ASCII letters, a combining mark, line separators and an emoji.
    private static let awkwardScalars: [Unicode.Scalar] =
        (0x00...0x1F).map { Unicode.Scalar(UInt8($0)) } + [
            "\u{7F}", " ", "\"", "\\", "=", "*", "x", "n", "0", "a", "Z", "-", "_", ",", "@", ".",
            "é", "ß", "\u{301}", "\u{85}", "\u{2028}", "\u{FEFF}", "日", "本", "🦆", "\u{10FFFF}",
        ]

    /// A random string of 0 to `maximumLength` scalars, about a tenth of them empty.
    mutating func nextAwkwardString(maximumLength: Int = 24) -> String {
        if Int.random(in: 0..<10, using: &self) == 0 { return "" }
        let length = Int.random(in: 1...maximumLength, using: &self)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            if Bool.random(using: &self) {
                scalars.append(Self.awkwardScalars.randomElement(using: &self)!)
            } else {
                scalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &self)))
            }
        }
        return String(scalars)
    }

    /// A random valid key of 1 to 12 bytes from `[A-Za-z0-9_-]`.
    mutating func nextKey(lowercase: Bool = false) -> String {
        let alphabet = Array(lowercase ? "abcdefghijklmnopqrstuvwxyz0123456789_-" : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        let length = Int.random(in: 1...12, using: &self)
        return String((0..<length).map { _ in alphabet.randomElement(using: &self)! })
    }
}

/// Parses a request line, returning the error instead of throwing it.
func requestError(_ line: String, limits: ProtocolLimits = .default) -> ProtocolError? {
    do {
        _ = try RequestParser(limits: limits).parse(line)
        return nil
    } catch {
        return error
    }
}

/// Parses a reply line, returning the error instead of throwing it.
func replyError(_ line: String) -> ProtocolError? {
    do {
        _ = try ReplyParser.parse(line)
        return nil
    } catch {
        return error
    }
}

/// The error `VerbSyntax.check` reports for a line that parses, or `nil` when it passes.
func checkError(_ line: String) throws -> ProtocolError? {
    guard let request = try RequestParser.parse(line) else { return nil }
    if case .failure(let error) = VerbSyntax.check(request) { return error }
    return nil
}

/// The bytes of a buffer's readable region.
func bytes(of buffer: ByteBuffer) -> [UInt8] {
    Array(buffer.readableBytesView)
}
