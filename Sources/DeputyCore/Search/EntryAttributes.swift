import Foundation
import HashTreeCollections

/// The attributes of one user, group or service account, read one at a time: a search
/// filter looks at the few it names, and the whole ``Entry`` is built only for a candidate
/// that matches, where building every candidate's entry made an unindexed search of a large
/// directory cost a second.
///
/// ``Directory/entry(for:)`` builds its entries from these same values, attribute by
/// attribute in ``names``, leaving out an attribute with no values, so a filter reads of a
/// candidate exactly what its entry would hold.
struct EntryAttributes: AttributeValues {
    enum Object {
        case user(User)
        case group(Group)
        case service(ServiceAccount)
    }

    /// The directory a group's owner and members are read from, held by reference: a search
    /// makes one for all its candidates, where copying the directory's value into each
    /// candidate's attributes counted a reference on every map in it.
    final class Source: Sendable {
        let directory: Directory
        init(_ directory: Directory) { self.directory = directory }
    }

    let object: Object
    /// Whether the private attributes (``Entry/privateAttributes``) read as absent.
    let hidesPrivate: Bool
    let source: Source

    static let userNames = [
        "objectclass", "uid", "mail", "mailalternateaddress", "cn", "displayname", "role", "customrole", "blocked", "recoveryaddress", "policy",
        "createtimestamp",
    ]
    static let groupNames = ["objectclass", "cn", "mail", "name", "kind", "owner", "member", "sendas", "policy", "createtimestamp"]
    static let serviceNames = ["objectclass", "uid", "blocked", "createtimestamp"]

    // Built once: each kind's values are the same for every entry.
    private static let userClasses = Entry.Kind.user.objectClasses
    private static let groupClasses = Entry.Kind.group.objectClasses
    private static let serviceClasses = Entry.Kind.service.objectClasses
    private static let yes = ["yes"]
    private static let no = ["no"]

    /// The attributes in an entry's order.
    var names: [String] {
        switch object {
        case .user: Self.userNames
        case .group: Self.groupNames
        case .service: Self.serviceNames
        }
    }

    /// The values of the attribute `name` (lowercase; `dn` too), none when the entry has no
    /// such attribute or the viewer may not see it.
    func values(of name: String) -> [String] {
        if hidesPrivate, Entry.privateAttributes.contains(name) { return [] }
        switch object {
        case .user(let user):
            switch name {
            case "dn": return [user.distinguishedName]
            case "objectclass": return Self.userClasses
            case "uid": return [String(user.address.localPart)]
            case "mail": return [user.address.value]
            case "mailalternateaddress": return user.aliases.map(\.value)
            case "cn", "displayname": return [user.displayName]
            case "role": return [user.role.rawValue]
            case "customrole": return user.customRoles.isEmpty ? [] : user.customRoles.sorted().map(\.rawValue)
            case "blocked": return user.blocked ? Self.yes : Self.no
            case "recoveryaddress": return user.recoveryAddress.map { [$0.value] } ?? []
            case "policy": return user.policy.map { [$0] } ?? []
            case "createtimestamp": return [Timestamp.format(user.createdAt)]
            default: return []
            }
        case .group(let group):
            switch name {
            case "dn": return [group.distinguishedName]
            case "objectclass": return Self.groupClasses
            case "cn": return [String(group.address.localPart)]
            case "mail": return [group.address.value]
            case "name": return [group.name]
            case "kind": return [group.kind.rawValue]
            case "owner": return group.owner.flatMap { source.directory.users[$0] }.map { [$0.address.value] } ?? []
            case "member": return (source.directory.members(of: group.address.value) ?? []).map(\.address.value)
            case "sendas": return group.membersMaySendAs ? Self.yes : Self.no
            case "policy": return group.policy.map { [$0] } ?? []
            case "createtimestamp": return [Timestamp.format(group.createdAt)]
            default: return []
            }
        case .service(let service):
            switch name {
            case "dn": return [DistinguishedName.service(service.name, primaryDomain: source.directory.organization?.domains.first)]
            case "objectclass": return Self.serviceClasses
            case "uid": return [service.name.value]
            case "blocked": return service.blocked ? Self.yes : Self.no
            case "createtimestamp": return [Timestamp.format(service.createdAt)]
            default: return []
            }
        }
    }

    /// The whole entry, as the viewer sees it.
    func entry() -> Entry {
        var attributes: [Entry.Attribute] = []
        attributes.reserveCapacity(names.count)
        for name in names {
            let values = values(of: name)
            if !values.isEmpty { attributes.append(Entry.Attribute(name: name, values: values)) }
        }
        switch object {
        case .user(let user):
            return Entry(kind: .user, id: user.id, distinguishedName: user.distinguishedName, attributes: attributes)
        case .group(let group):
            return Entry(kind: .group, id: group.id, distinguishedName: group.distinguishedName, attributes: attributes)
        case .service(let service):
            return Entry(kind: .service, id: service.id, distinguishedName: values(of: "dn")[0], attributes: attributes)
        }
    }
}
