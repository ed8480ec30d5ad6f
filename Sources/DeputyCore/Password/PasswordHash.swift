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

    /// Wraps an encoded hash after checking that it parses.
    public init?(encoded: String) {
        guard PasswordHashFormat(parsing: encoded) != nil else { return nil }
        self.encoded = encoded
    }

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
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty,
            let salt = Base64.decode(fields[3]), let key = Base64.decode(fields[4]),
            salt.count >= 8, key.count >= 16
        else { return nil }
        let parameters = Self.parameters(fields[2])
        switch fields[1] {
        case "pbkdf2-sha256":
            guard let iterations = parameters["i"], (1...Self.maximumIterations).contains(iterations) else { return nil }
            self.algorithm = .pbkdf2SHA256(iterations: iterations)
        case "scrypt":
            guard let logN = parameters["ln"], (1...Self.maximumScryptLogN).contains(logN),
                let r = parameters["r"], (1...32).contains(r),
                let p = parameters["p"], (1...16).contains(p)
            else { return nil }
            self.algorithm = .scrypt(logN: logN, blockSize: r, parallelism: p)
        default:
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

    private static func parameters(_ text: Substring) -> [String: Int] {
        var result: [String: Int] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { continue }
            result[String(parts[0])] = value
        }
        return result
    }
}
