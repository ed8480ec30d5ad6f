/// LDAP-style distinguished names for entries, derived from their addresses.
///
/// Users are `uid=<local>,ou=users,<domain>`, groups `cn=<local>,ou=groups,<domain>`,
/// service accounts `uid=<name>,ou=services,<primary domain>`, where `<domain>` is the
/// address's domain as `dc=` components. Parsing accepts any case and spaces after commas.
public enum DistinguishedName {
    /// The organisational unit an entry lives in.
    public enum Unit: String, Sendable {
        case users, groups, services
    }

    static func user(_ address: EmailAddress) -> String {
        "uid=\(address.localPart),ou=users,\(DomainName(address.domain)!.distinguishedNameSuffix)"
    }

    static func group(_ address: EmailAddress) -> String {
        "cn=\(address.localPart),ou=groups,\(DomainName(address.domain)!.distinguishedNameSuffix)"
    }

    static func service(_ name: ServiceName, primaryDomain: DomainName?) -> String {
        let suffix = primaryDomain.map { ",\($0.distinguishedNameSuffix)" } ?? ""
        return "uid=\(name.value),ou=services\(suffix)"
    }

    /// Splits a DN into its unit and the name it encodes: an address for users and groups
    /// (`uid=alice,ou=users,dc=acme,dc=test` gives `alice@acme.test`), a bare name for services.
    public static func parse(_ text: String) -> (unit: Unit, name: String)? {
        let parts = text.lowercased().split(separator: ",").map { $0.trimmingSpaces() }
        guard parts.count >= 2 else { return nil }
        let pairs = parts.map { part -> (String, String)? in
            guard let eq = part.firstIndex(of: "=") else { return nil }
            return (String(part[..<eq]), String(part[part.index(after: eq)...]))
        }
        guard pairs.allSatisfy({ $0 != nil && !$0!.1.isEmpty }) else { return nil }
        let attributes = pairs.map { $0! }
        guard attributes[1].0 == "ou", let unit = Unit(rawValue: attributes[1].1) else { return nil }
        let domainParts = attributes.dropFirst(2)
        guard domainParts.allSatisfy({ $0.0 == "dc" }) else { return nil }
        let domain = domainParts.map(\.1).joined(separator: ".")
        switch unit {
        case .users:
            guard attributes[0].0 == "uid", !domain.isEmpty else { return nil }
            return (unit, "\(attributes[0].1)@\(domain)")
        case .groups:
            guard attributes[0].0 == "cn", !domain.isEmpty else { return nil }
            return (unit, "\(attributes[0].1)@\(domain)")
        case .services:
            guard attributes[0].0 == "uid" else { return nil }
            return (unit, attributes[0].1)
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
