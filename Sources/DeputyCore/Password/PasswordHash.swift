/// A stored password: a salted slow hash in a self-describing text format.
///
/// The format names the algorithm and its cost, so the cost can be raised later and old
/// hashes still verify:
/// - `$pbkdf2-sha256$i=600000$<salt>$<key>` (PBKDF2-HMAC-SHA256)
/// - `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (scrypt, N = 2^ln)
///
/// Salt and key are standard base64 without padding. The description is redacted, so a
/// hash can't leak into logs by accident.
public struct PasswordHash: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The encoded hash.
    public let encoded: String

    /// Wraps an encoded hash after checking that it parses; `!` is ``none``.
    public init?(encoded: String) {
        guard encoded == Self.none.encoded || PasswordHashFormat(parsing: encoded) != nil else { return nil }
        self.encoded = encoded
    }

    /// No password: no login matches it, as `!` in a shadow file. An account added without
    /// a password stores this until one is set, rather than the hash of a random secret
    /// that would cost a full, slow hashing per account for nothing.
    public static let none = PasswordHash(trusted: "!")

    /// Whether a password is set.
    public var isSet: Bool { self != .none }

    init(trusted encoded: String) {
        self.encoded = encoded
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let hash = PasswordHash(encoded: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a password hash"))
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }

    public var description: String { "<password hash>" }
}

/// The parsed parts of a ``PasswordHash``.
struct PasswordHashFormat {
    enum Algorithm: Equatable {
        case pbkdf2SHA256(iterations: Int)
        case scrypt(logN: Int, blockSize: Int, parallelism: Int)
    }

    let algorithm: Algorithm
    let salt: [UInt8]
    let key: [UInt8]

    /// Bounds on stored costs, so that a crafted hash (say, in an imported file) can't make
    /// one verification run for minutes or allocate gigabytes.
    static let maximumIterations = 10_000_000
    static let maximumScryptLogN = 20

    init(algorithm: Algorithm, salt: [UInt8], key: [UInt8]) {
        self.algorithm = algorithm
        self.salt = salt
        self.key = key
    }

    init?(parsing text: String) {
        // Split and read as bytes: every snapshot load parses one of these per account.
        let fields = text.utf8.split(separator: UInt8(ascii: "$"), maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty,
            let salt = Base64.decode(fields[3]), let key = Base64.decode(fields[4]),
            salt.count >= 8, key.count >= 16,
            let parameters = Self.parameters(fields[2])
        else { return nil }
        if fields[1].elementsEqual("pbkdf2-sha256".utf8) {
            guard parameters.count == 1, parameters[0].name.elementsEqual("i".utf8),
                (1...Self.maximumIterations).contains(parameters[0].value)
            else { return nil }
            self.algorithm = .pbkdf2SHA256(iterations: parameters[0].value)
        } else if fields[1].elementsEqual("scrypt".utf8) {
            guard parameters.count == 3, parameters[0].name.elementsEqual("ln".utf8), parameters[1].name.elementsEqual("r".utf8),
                parameters[2].name.elementsEqual("p".utf8),
                (1...Self.maximumScryptLogN).contains(parameters[0].value), (1...32).contains(parameters[1].value),
                (1...16).contains(parameters[2].value)
            else { return nil }
            self.algorithm = .scrypt(logN: parameters[0].value, blockSize: parameters[1].value, parallelism: parameters[2].value)
        } else {
            return nil
        }
        self.salt = salt
        self.key = key
    }

    var encoded: String {
        let head: String
        switch algorithm {
        case .pbkdf2SHA256(let iterations):
            head = "$pbkdf2-sha256$i=\(iterations)"
        case .scrypt(let logN, let r, let p):
            head = "$scrypt$ln=\(logN),r=\(r),p=\(p)"
        }
        return "\(head)$\(Base64.encode(salt))$\(Base64.encode(key))"
    }

    /// `name=value` pairs separated by commas, in their order; `nil` unless every value is
    /// a decimal number of at most nine digits.
    private static func parameters(_ text: Substring.UTF8View) -> [(name: Substring.UTF8View, value: Int)]? {
        var pairs: [(name: Substring.UTF8View, value: Int)] = []
        for pair in text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let digits = pair[pair.index(after: equals)...]
            guard (1...9).contains(digits.count), digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            pairs.append((pair[..<equals], digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }))
        }
        return pairs
    }
}
