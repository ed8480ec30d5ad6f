import Foundation

/// An account for a mail server or another program: it may query the directory, never change it.
public struct ServiceAccount: Hashable, Codable, Sendable {
    /// The stable identity.
    public let id: EntityID
    /// The login, for example `postfix`.
    public let name: ServiceName
    /// The salted slow hash of its password.
    public var passwordHash: PasswordHash
    /// A blocked service account can't log in.
    public var blocked: Bool
    /// When it was created.
    public let createdAt: Date

    /// Creates a service account.
    public init(id: EntityID, name: ServiceName, passwordHash: PasswordHash, blocked: Bool = false, createdAt: Date) {
        self.id = id
        self.name = name
        self.passwordHash = passwordHash
        self.blocked = blocked
        self.createdAt = createdAt
    }
}

/// The login of a service account: 1 to 64 lowercase letters, digits, `-`, `_` or `.`,
/// starting with a letter and without `@`, so it can never be taken for a user's address.
public struct ServiceName: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The name in lowercase.
    public let value: String

    /// Creates a name, or returns `nil` when the text is not a valid service name.
    public init?(_ text: some StringProtocol) {
        let lowered = text.lowercased()
        guard let first = lowered.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            lowered.utf8.count <= 64,
            lowered.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            })
        else { return nil }
        self.value = lowered
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = ServiceName(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a valid service name"))
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: ServiceName, rhs: ServiceName) -> Bool { lhs.value < rhs.value }

    public var description: String { value }
}
