import Crypto
import NIOSSL

/// The SHA-256 fingerprint of a certificate's DER encoding, as shown by `deputyd` at start-up
/// and stored in known-hosts files.
///
/// The canonical form is `sha256:` followed by uppercase hex pairs separated by colons:
///
/// ```
/// sha256:3A:7F:...:C2        (32 pairs)
/// ```
///
/// Parsing also accepts the pairs without colons and without the prefix, in any case:
///
/// ```swift
/// Fingerprint("sha256:3a:7f:...:c2")   // the same value
/// Fingerprint("3A7F...C2")             // the same value, 64 hex digits
/// ```
public struct Fingerprint: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The number of bytes in a SHA-256 digest.
    public static let byteCount = 32

    /// How a fingerprint is written, for messages that refuse one.
    public static let expectedForm = "sha256: and 32 pairs of hex digits separated by colons, as deputyd logs it (sha256:3A:7F:...:C2)"

    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Creates a fingerprint from a 32-byte SHA-256 digest, or returns `nil` for any other length.
    public init?(digest: [UInt8]) {
        guard digest.count == Self.byteCount else { return nil }
        self.bytes = digest
    }

    /// The fingerprint of a certificate given in DER form.
    public init(certificateDER: [UInt8]) {
        self.bytes = Array(SHA256.hash(data: certificateDER))
    }

    /// The fingerprint of a certificate.
    ///
    /// - Throws: the error of `NIOSSLCertificate.toDERBytes()` if the certificate cannot be
    ///   serialised.
    public init(certificate: NIOSSLCertificate) throws {
        self.init(certificateDER: try certificate.toDERBytes())
    }

    /// Parses `sha256:AB:CD:...`, `AB:CD:...`, `sha256:ABCD...` or `ABCD...` (64 hex digits),
    /// ignoring case and surrounding whitespace; returns `nil` for anything else.
    public init?(_ description: String) {
        var text = Substring(description).drop { $0.isWhitespace }
        while let last = text.last, last.isWhitespace {
            text = text.dropLast()
        }
        if text.count >= 7, text.prefix(7).lowercased() == "sha256:" {
            text = text.dropFirst(7)
        }
        let digits: [UInt8]
        if text.contains(":") {
            let pairs = text.split(separator: ":", omittingEmptySubsequences: false)
            guard pairs.count == Self.byteCount, pairs.allSatisfy({ $0.utf8.count == 2 }) else { return nil }
            digits = Array(pairs.joined().utf8)
        } else {
            digits = Array(text.utf8)
        }
        guard digits.count == Self.byteCount * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        var index = 0
        while index < digits.count {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }

    /// The canonical form, `sha256:AB:CD:...`.
    public var description: String {
        "sha256:" + self.bytes.map(Self.hexPair).joined(separator: ":")
    }

    // MARK: - Hex

    private static let hexDigits = Array("0123456789ABCDEF")

    private static func hexPair(_ byte: UInt8) -> String {
        String([Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)]])
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
