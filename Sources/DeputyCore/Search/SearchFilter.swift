import Foundation

/// An LDAP-style search filter, the RFC 4515 subset Deputy understands: equality,
/// presence, substring, and, or, not.
///
/// ```
/// (&(objectClass=person)(|(mail=*@acme.test)(cn=Ali*)))
/// (!(blocked=yes))
/// ```
/// Matching ignores case. Values escape `(`, `)`, `*` and `\` as `\28`, `\29`, `\2a`, `\5c`.
public indirect enum SearchFilter: Hashable, Sendable {
    case and([SearchFilter])
    case or([SearchFilter])
    case not(SearchFilter)
    /// `(attr=value)`
    case equality(attribute: String, value: String)
    /// `(attr=*)`
    case presence(attribute: String)
    /// `(attr=ini*any*fin)`; every part lowercase.
    case substring(attribute: String, initial: String?, any: [String], final: String?)

    /// How deeply filters may nest, so a hostile filter can't exhaust the stack.
    public static let maximumDepth = 32
    /// The longest filter accepted, in bytes.
    public static let maximumLength = 4096

    /// Whether `entry` matches.
    public func matches(_ entry: Entry) -> Bool {
        switch self {
        case .and(let filters): return filters.allSatisfy { $0.matches(entry) }
        case .or(let filters): return filters.contains { $0.matches(entry) }
        case .not(let filter): return !filter.matches(entry)
        case .presence(let attribute): return !entry.values(of: attribute).isEmpty
        case .equality(let attribute, let value):
            return entry.values(of: attribute).contains { $0.lowercased() == value }
        case .substring(let attribute, let initial, let any, let final):
            return entry.values(of: attribute).contains { Self.matchesSubstring($0.lowercased(), initial: initial, any: any, final: final) }
        }
    }

    private static func matchesSubstring(_ value: String, initial: String?, any: [String], final: String?) -> Bool {
        var rest = Substring(value)
        if let initial {
            guard rest.hasPrefix(initial) else { return false }
            rest = rest.dropFirst(initial.count)
        }
        for part in any {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        if let final { return rest.hasSuffix(final) }
        return true
    }
}
