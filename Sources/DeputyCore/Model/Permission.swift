/// One right a delegation gives over a mailbox.
public enum Permission: String, Codable, Sendable, CaseIterable, Comparable {
    /// Read the mailbox.
    case read
    /// Read plus organise, move and delete; implies ``read``.
    case manage
    /// Send mail from the mailbox's address marked as sent on behalf of its owner.
    case sendOnBehalf = "sendonbehalf"
    /// Send mail as the mailbox's address, indistinguishable from its owner.
    case sendAs = "sendas"

    /// Whether the permission is a right to send (``sendOnBehalf`` or ``sendAs``).
    public var isSending: Bool { self == .sendOnBehalf || self == .sendAs }

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int {
        switch self {
        case .read: 0
        case .manage: 1
        case .sendOnBehalf: 2
        case .sendAs: 3
        }
    }
}

/// A set of ``Permission``s, normalised so that `manage` always includes `read`.
public struct PermissionSet: Hashable, Codable, Sendable, Sequence, CustomStringConvertible {
    private var bits: UInt8

    /// The empty set.
    public static let none = PermissionSet(bits: 0)

    private init(bits: UInt8) { self.bits = bits }

    /// Creates a set from permissions; `manage` adds `read`.
    public init(_ permissions: some Sequence<Permission>) {
        self.bits = 0
        for permission in permissions { insert(permission) }
    }

    /// Parses a comma-separated list such as `read,sendas`; returns `nil` for an unknown
    /// or empty list.
    public init?(parsing text: String) {
        var set = PermissionSet.none
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let permission = Permission(rawValue: item.lowercased()) else { return nil }
            set.insert(permission)
        }
        guard !set.isEmpty else { return nil }
        self = set
    }

    /// Whether the set holds `permission`.
    public func contains(_ permission: Permission) -> Bool {
        bits & Self.bit(permission) != 0
    }

    /// Adds `permission` (and `read` with `manage`).
    public mutating func insert(_ permission: Permission) {
        bits |= Self.bit(permission)
        if permission == .manage { bits |= Self.bit(.read) }
    }

    /// Whether the set is empty.
    public var isEmpty: Bool { bits == 0 }

    /// The union of two sets.
    public func union(_ other: PermissionSet) -> PermissionSet {
        PermissionSet(bits: bits | other.bits)
    }

    public func makeIterator() -> some IteratorProtocol<Permission> {
        Permission.allCases.filter { contains($0) }.makeIterator()
    }

    /// The set as a comma-separated list in a fixed order, for example `read,manage,sendas`.
    ///
    /// One literal per set: replies write this for every delegation they list, and a
    /// literal is neither built nor reference-counted.
    public var description: String {
        switch bits {
        case 0: ""
        case 1: "read"
        case 2: "manage"
        case 3: "read,manage"
        case 4: "sendonbehalf"
        case 5: "read,sendonbehalf"
        case 6: "manage,sendonbehalf"
        case 7: "read,manage,sendonbehalf"
        case 8: "sendas"
        case 9: "read,sendas"
        case 10: "manage,sendas"
        case 11: "read,manage,sendas"
        case 12: "sendonbehalf,sendas"
        case 13: "read,sendonbehalf,sendas"
        case 14: "manage,sendonbehalf,sendas"
        case 15: "read,manage,sendonbehalf,sendas"
        default: map(\.rawValue).joined(separator: ",")
        }
    }

    public init(from decoder: any Decoder) throws {
        let list = try decoder.singleValueContainer().decode([Permission].self)
        self.init(list)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Array(self))
    }

    private static func bit(_ permission: Permission) -> UInt8 {
        switch permission {
        case .read: 1
        case .manage: 2
        case .sendOnBehalf: 4
        case .sendAs: 8
        }
    }
}
