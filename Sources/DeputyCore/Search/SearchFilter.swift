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
        matches(attributes: entry)
    }

    /// Whether the entry whose attributes `source` reads matches. It is asked only for the
    /// attributes the filter names, by lowercase name.
    func matches(attributes source: some AttributeValues) -> Bool {
        switch self {
        case .and(let filters): return filters.allSatisfy { $0.matches(attributes: source) }
        case .or(let filters): return filters.contains { $0.matches(attributes: source) }
        case .not(let filter): return !filter.matches(attributes: source)
        case .presence(let attribute): return !source.values(of: Self.lowercase(attribute)).isEmpty
        case .equality(let attribute, let value):
            return source.values(of: Self.lowercase(attribute)).contains { Self.equals($0, value) }
        case .substring(let attribute, let initial, let any, let final):
            return source.values(of: Self.lowercase(attribute)).contains { Self.substringMatches($0, initial: initial, any: any, final: final) }
        }
    }

    /// The parser lowercases attribute names; a filter made in code may not have.
    private static func lowercase(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? name.lowercased() : name
    }

    /// Whether `value`, in any case, equals `lowered` (lowercase).
    static func equals(_ value: String, _ lowered: String) -> Bool {
        if let equal = PrintableASCII.equals(value, lowered) { return equal }
        return value.lowercased() == lowered
    }

    /// Whether `value`, in any case, matches a substring filter's lowercase parts. A scan
    /// asks this of every candidate, so printable ASCII, which is nearly every value, is
    /// compared byte by byte with capitals folded, without a lowercase copy of the value.
    static func substringMatches(_ value: String, initial: String?, any: [String], final: String?) -> Bool {
        if let matched = PrintableASCII.matches(value, initial: initial, any: any, final: final) { return matched }
        return matchesSubstring(value.lowercased(), initial: initial, any: any, final: final)
    }

    /// The comparison of characters, for any text: `value` already lowercase.
    static func matchesSubstring(_ value: String, initial: String?, any: [String], final: String?) -> Bool {
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
