/// The stable identity of an entry in the directory.
///
/// Identities are assigned by the directory in increasing order and never reused, so a
/// journal replayed in order assigns the same identities again. Addresses and names may
/// change; the identity does not.
public struct EntityID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The numeric value of the identity.
    public let rawValue: UInt64

    /// Creates an identity from its numeric value.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: EntityID, rhs: EntityID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { String(rawValue) }
}
