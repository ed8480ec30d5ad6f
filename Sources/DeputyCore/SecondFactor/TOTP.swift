import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238) with HMAC-SHA-1, 30-second steps and six
/// digits: what every authenticator app reads from an `otpauth://` URI.
///
/// Checking a code compares it with the codes of the current step and one step either side
/// (a phone's clock may be half a minute off), each in constant time, and accepts only a
/// step after the last one used, so a code seen over someone's shoulder can't be replayed.
public enum TOTP {
    /// Seconds per step.
    public static let period: UInt64 = 30
    /// Digits per code.
    public static let digits = 6
    /// Steps accepted either side of the current one.
    public static let drift: UInt64 = 1
    /// Bytes of a new secret: 160 bits, the length of an HMAC-SHA-1 key (RFC 4226 section 4).
    public static let secretLength = 20

    /// The step of `time`: seconds since 1970 divided by the period.
    public static func step(at time: Date) -> UInt64 {
        let seconds = max(0, time.timeIntervalSince1970.rounded(.down))
        return UInt64(seconds) / period
    }

    /// The code of `step` for `secret`, `digits` long with leading zeros (RFC 4226 section 5.3).
    public static func code(secret: [UInt8], step: UInt64, digits: Int = digits) -> String {
        var counter = step.bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The step whose code `code` is, among the steps within ``drift`` of `time` and after
    /// `lastUsed`; `nil` when there is none. Every candidate is compared, in constant time,
    /// whichever matches, so the time taken says nothing about the code.
    public static func match(_ code: String, secret: [UInt8], at time: Date, after lastUsed: UInt64?) -> UInt64? {
        let given = Array(code.utf8)
        let now = step(at: time)
        var found: UInt64?
        for candidate in (now > drift ? now - drift : 0)...(now + drift) {
            let matches = ConstantTime.equal(given, Array(self.code(secret: secret, step: candidate).utf8))
            if matches, lastUsed.map({ candidate > $0 }) ?? true, found == nil { found = candidate }
        }
        return found
    }

    /// Whether `text` looks like a code: exactly ``digits`` ASCII digits.
    public static func isCode(_ text: String) -> Bool {
        text.utf8.count == digits && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The `otpauth://` URI an authenticator app reads (as a QR code or typed), naming the
    /// organisation as issuer and the login as account.
    public static func uri(secret: [UInt8], issuer: String, account: String) -> String {
        let label = percentEncoded(issuer) + ":" + percentEncoded(account)
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(percentEncoded(issuer))&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Whether `a` and `b` are equal; the time depends only on their lengths.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
