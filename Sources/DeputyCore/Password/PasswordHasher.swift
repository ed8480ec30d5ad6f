import Crypto
import _CryptoExtras

/// Hashes and verifies passwords with a salted slow key-derivation function.
///
/// The default is PBKDF2-HMAC-SHA256 at 600,000 iterations, OWASP's current figure for it
/// (chosen over scrypt because it needs no memory per verification, so a burst of logins
/// can't exhaust the daemon's memory). Verification reads the algorithm and cost from the
/// stored hash, so hashes made at an older cost keep working and ``needsRehash(_:)`` says
/// when to replace them. Hashing is slow on purpose: callers keep it off event loops.
public struct PasswordHasher: Sendable {
    /// The algorithm and cost of new hashes.
    public enum Algorithm: Sendable, Equatable {
        /// PBKDF2-HMAC-SHA256 with the given iteration count.
        case pbkdf2SHA256(iterations: Int)
        /// scrypt with N = 2^logN, block size r and parallelism p.
        case scrypt(logN: Int, blockSize: Int, parallelism: Int)
    }

    /// OWASP's current PBKDF2-HMAC-SHA256 iteration count.
    public static let recommendedIterations = 600_000

    /// The production hasher.
    public static let standard = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: recommendedIterations))

    /// The algorithm and cost used for new hashes.
    public let algorithm: Algorithm

    /// Creates a hasher. A cost below OWASP's is for tests only.
    public init(algorithm: Algorithm) {
        self.algorithm = algorithm
    }

    /// Hashes `password` with a fresh random 16-byte salt.
    public func hash(_ password: String) -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let format = PasswordHashFormat(algorithm: algorithm.formatAlgorithm, salt: salt, key: [])
        let key = Self.derive(password, format: format)
        return PasswordHash(trusted: PasswordHashFormat(algorithm: format.algorithm, salt: salt, key: key).encoded)
    }

    /// Whether `password` matches `hash`, compared in constant time. An empty password
    /// matches nothing, not even a hash made of it (stored by hand, or by a build that let
    /// one be set), after the same derivation, so it takes as long as any.
    public func verify(_ password: String, against hash: PasswordHash) -> Bool {
        guard let format = PasswordHashFormat(parsing: hash.encoded) else { return false }
        let derived = Self.derive(password, format: format)
        return Self.constantTimeEqual(derived, format.key) && !password.isEmpty
    }

    /// Whether `hash` was made with a different algorithm or cost than this hasher's, so it
    /// should be replaced the next time the password is known.
    public func needsRehash(_ hash: PasswordHash) -> Bool {
        guard let format = PasswordHashFormat(parsing: hash.encoded) else { return true }
        return format.algorithm != algorithm.formatAlgorithm
    }

    /// A hash of a random password at this hasher's cost, to verify against when a login is
    /// unknown so that unknown and known logins take the same time.
    public func makeDecoyHash() -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        return hash(String(UInt64.random(in: .min ... .max, using: &generator), radix: 36))
    }

    // MARK: - Derivation

    private static let keyLength = 32

    private static func derive(_ password: String, format: PasswordHashFormat) -> [UInt8] {
        let passwordBytes = Array(password.utf8)
        let derived: SymmetricKey?
        switch format.algorithm {
        case .pbkdf2SHA256(let iterations):
            derived = try? KDF.Insecure.PBKDF2.deriveKey(
                from: passwordBytes, salt: format.salt, using: .sha256,
                outputByteCount: keyLength, unsafeUncheckedRounds: iterations
            )
        case .scrypt(let logN, let r, let p):
            derived = try? KDF.Scrypt.deriveKey(
                from: passwordBytes, salt: format.salt, outputByteCount: keyLength,
                rounds: 1 << logN, blockSize: r, parallelism: p
            )
        }
        // A derivation failure (only possible with parameters the format already bounds)
        // yields a key that can't match any stored one.
        return derived.map { $0.withUnsafeBytes { Array($0) } } ?? []
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count, !lhs.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}

extension PasswordHasher.Algorithm {
    fileprivate var formatAlgorithm: PasswordHashFormat.Algorithm {
        switch self {
        case .pbkdf2SHA256(let iterations): .pbkdf2SHA256(iterations: iterations)
        case .scrypt(let logN, let r, let p): .scrypt(logN: logN, blockSize: r, parallelism: p)
        }
    }
}
