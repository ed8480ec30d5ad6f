import Foundation
import HashTreeCollections

/// One entry of the directory as a set of LDAP-style attributes, for `QUERY ENTRY` and
/// `QUERY SEARCH`.
public struct Entry: Hashable, Sendable, AttributeValues {
    /// What the entry is.
    public enum Kind: String, Sendable, CaseIterable {
        case organization, user, group, service

        /// The entry's `objectclass` values.
        public var objectClasses: [String] {
            switch self {
            case .organization: ["top", "organization", "deputyorganization"]
            case .user: ["top", "person", "inetorgperson", "deputyuser"]
            case .group: ["top", "groupofnames", "deputygroup"]
            case .service: ["top", "deputyservice"]
            }
        }
    }

    /// What the entry is.
    public let kind: Kind
    /// The entry's identity (none for the organisation).
    public let id: EntityID?
    /// The distinguished name.
    public let distinguishedName: String
    /// The attributes in a fixed order; names are lowercase.
    public let attributes: [Attribute]

    /// One attribute with its values.
    public struct Attribute: Hashable, Sendable {
        public let name: String
        public let values: [String]
    }

    /// Attributes that only administrators, helpdesk and the entry's own user see.
    public static let privateAttributes: Set<String> = ["recoveryaddress", "policy"]

    /// The values of the attribute `name` (case-insensitive).
    public func values(of name: String) -> [String] {
        let lowered = name.lowercased()
        if lowered == "dn" { return [distinguishedName] }
        return attributes.first { $0.name == lowered }?.values ?? []
    }

    /// The entry without its private attributes.
    public func withoutPrivateAttributes() -> Entry {
        Entry(kind: kind, id: id, distinguishedName: distinguishedName, attributes: attributes.filter { !Self.privateAttributes.contains($0.name) })
    }
}

extension Directory {
    /// The entry with the address (primary, alias or group) or distinguished name `key`.
    public func entry(for key: String) -> Entry? {
        if let address = EmailAddress(key) {
            switch owner(of: address) {
            case .user(let id), .alias(let id): return users[id].map(entry(for:))
            case .group(let id): return groups[id].map(entry(for:))
            case nil: return nil
            }
        }
        if let organization, key.lowercased() == organization.distinguishedName { return entry(for: organization) }
        guard let (unit, name) = DistinguishedName.parse(key) else { return nil }
        switch unit {
        case .users:
            return EmailAddress(name).flatMap { owner(of: $0) }.flatMap { owner in
                if case .user(let id) = owner { return users[id].map(entry(for:)) }
                return nil
            }
        case .groups:
            return EmailAddress(name).flatMap { group(at: $0) }.map(entry(for:))
        case .services:
            return ServiceName(name).flatMap { service(named: $0) }.map(entry(for:))
        }
    }

    func entry(for user: User) -> Entry {
        EntryAttributes(object: .user(user), hidesPrivate: false, source: EntryAttributes.Source(self)).entry()
    }

    func entry(for group: Group) -> Entry {
        EntryAttributes(object: .group(group), hidesPrivate: false, source: EntryAttributes.Source(self)).entry()
    }

    func entry(for service: ServiceAccount) -> Entry {
        EntryAttributes(object: .service(service), hidesPrivate: false, source: EntryAttributes.Source(self)).entry()
    }

    func entry(for organization: Organization) -> Entry {
        var attributes: [Entry.Attribute] = [
            .init(name: "objectclass", values: Entry.Kind.organization.objectClasses),
            .init(name: "o", values: [organization.name]),
            .init(name: "domain", values: organization.domains.map(\.value)),
        ]
        if let logo = organization.logo { attributes.append(.init(name: "logo", values: [logo])) }
        attributes += [
            .init(name: "defaultpolicy", values: [organization.defaultPolicy]),
            .init(name: "orggroups", values: [organization.groupCreation.organizationGroups.rawValue]),
            .init(name: "personalgroups", values: [organization.groupCreation.personalGroups.rawValue]),
            .init(name: "personalexternal", values: [organization.groupCreation.personalGroupsAllowExternal ? "yes" : "no"]),
            .init(name: "orgexternal", values: [organization.groupCreation.organizationGroupsAllowExternal ? "yes" : "no"]),
            .init(name: "reserved", values: organization.reservedLocalParts),
            .init(name: "adminfactor", values: [organization.requireAdministratorFactor ? "yes" : "no"]),
            .init(name: "auditdays", values: [String(organization.auditRetentionDays ?? 0)]),
            .init(name: "createtimestamp", values: [Timestamp.format(organization.createdAt)]),
        ]
        return Entry(kind: .organization, id: nil, distinguishedName: organization.distinguishedName, attributes: attributes)
    }
}
