import Crypto
import Foundation

/// Seals TOTP secrets with AES-256-GCM under the daemon's factor key, bound to the user
/// they belong to, so a sealed secret copied onto another user's record does not open.
public struct FactorSecretBox: Sendable {
    /// Bytes of a key.
    public static let keyLength = 32
    private let key: SymmetricKey

    /// A box around `key`, which must be ``keyLength`` bytes.
    public init?(key: [UInt8]) {
        guard key.count == Self.keyLength else { return nil }
        self.key = SymmetricKey(data: key)
    }

    /// A new random key.
    public static func makeKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// `secret` sealed for `user`: base64 of nonce, ciphertext and tag.
    public func seal(_ secret: [UInt8], for user: EntityID) -> String {
        // Sealing with a valid key and a fresh random nonce does not fail.
        let box = try! AES.GCM.seal(secret, using: key, authenticating: Self.associatedData(user))
        return box.combined!.base64EncodedString()
    }

    /// The secret `sealed` holds for `user`, or `nil` when it was sealed under another key
    /// or for another user, or is damaged.
    public func open(_ sealed: String, for user: EntityID) -> [UInt8]? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
            let secret = try? AES.GCM.open(box, using: key, authenticating: Self.associatedData(user))
        else { return nil }
        return Array(secret)
    }

    private static func associatedData(_ user: EntityID) -> [UInt8] {
        Array("deputy-totp-secret:\(user.rawValue)".utf8)
    }
}

/// One-time recovery codes: 80 random bits each, shown once as `xxxx-xxxx-xxxx-xxxx`, kept
/// only as SHA-256 hashes. A fast hash is enough: with 80 bits of randomness a code can't
/// be found from its hash by guessing, unlike a password.
public enum RecoveryCode {
    /// Codes made at each enrolment.
    public static let count = 10
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// A new code from `generator`.
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        var characters: [UInt8] = []
        for index in 0..<16 {
            if index > 0, index % 4 == 0 { characters.append(UInt8(ascii: "-")) }
            characters.append(alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Whether `text` has the shape of a recovery code (either case, dashes optional).
    public static func isRecoveryCode(_ text: String) -> Bool {
        let normalized = normalize(text)
        return normalized.count == 16 && normalized.allSatisfy { alphabet.contains($0) }
    }

    /// The hash the directory keeps of `text`: SHA-256 in hex of the code in lower case
    /// without dashes.
    public static func hash(_ text: String) -> String {
        SHA256.hash(data: normalize(text)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    private static func normalize(_ text: String) -> [UInt8] {
        Array(text.lowercased().utf8.filter { $0 != UInt8(ascii: "-") })
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
