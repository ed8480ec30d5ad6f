import DeputyCore
import Foundation

/// Writes the users, groups, delegations and audit records of a snapshot straight into bytes, without
/// going through `Codable`: the counterpart of ``SnapshotListReader``.
///
/// The bytes are exactly those ``StorageJSONEncoder`` writes for the same values (keys in
/// order, optional fields left out when empty, sets sorted by their encoded bytes, enums as
/// `{"case":{"_0":value}}`), and a test compares the two byte for byte. Scalars go through
/// ``JSONOutput``'s own writers, so escaping and dates are the encoder's; the structure
/// through ``JSONOutputWriting``.
struct SnapshotListWriter: JSONOutputWriting {
    let output: JSONOutput

    func write(_ user: User) {
        open()
        key("address")
        output.writeString(user.address.value)
        key("aliases")
        array(user.aliases) { output.writeString($0.value) }
        key("blocked")
        output.writeBool(user.blocked)
        key("createdAt")
        output.writeDate(user.createdAt)
        key("customRoles")
        sortedArray(user.customRoles) { output.writeString($0.rawValue) }
        key("displayName")
        output.writeString(user.displayName)
        key("id")
        output.writeInteger(user.id.rawValue)
        key("passwordHash")
        output.writeString(user.passwordHash.encoded)
        if let policy = user.policy {
            key("policy")
            output.writeString(policy)
        }
        if let recoveryAddress = user.recoveryAddress {
            key("recoveryAddress")
            output.writeString(recoveryAddress.value)
        }
        key("role")
        output.writeString(user.role.rawValue)
        close()
    }

    func write(_ group: Group) {
        open()
        key("address")
        output.writeString(group.address.value)
        key("createdAt")
        output.writeDate(group.createdAt)
        key("id")
        output.writeInteger(group.id.rawValue)
        key("kind")
        output.writeString(group.kind.rawValue)
        key("members")
        sortedArray(group.members) { member in
            switch member {
            case .user(let id): enumCase("user") { output.writeInteger(id.rawValue) }
            case .group(let id): enumCase("group") { output.writeInteger(id.rawValue) }
            case .external(let address): enumCase("external") { output.writeString(address.value) }
            }
        }
        key("membersMaySendAs")
        output.writeBool(group.membersMaySendAs)
        key("name")
        output.writeString(group.name)
        if let owner = group.owner {
            key("owner")
            output.writeInteger(owner.rawValue)
        }
        if let policy = group.policy {
            key("policy")
            output.writeString(policy)
        }
        close()
    }

    func write(_ delegation: Delegation) {
        open()
        key("delegate")
        switch delegation.delegate {
        case .user(let id): enumCase("user") { output.writeInteger(id.rawValue) }
        case .group(let id): enumCase("group") { output.writeInteger(id.rawValue) }
        }
        if let expiresAt = delegation.expiresAt {
            key("expiresAt")
            output.writeDate(expiresAt)
        }
        key("grantedAt")
        output.writeDate(delegation.grantedAt)
        key("grantedBy")
        write(delegation.grantedBy)
        key("id")
        output.writeInteger(delegation.id.rawValue)
        key("mailbox")
        output.writeInteger(delegation.mailbox.rawValue)
        key("permissions")
        // A permission set is a list in a fixed order, not a set the encoder sorts.
        array(Array(delegation.permissions)) { output.writeString($0.rawValue) }
        close()
    }

    func write(_ record: AuditRecord) {
        open()
        key("action")
        output.writeString(record.action)
        key("actor")
        output.writeString(record.actor)
        key("actorPrincipal")
        write(record.actorPrincipal)
        key("detail")
        output.writeString(record.detail)
        key("outcome")
        open()
        switch record.outcome {
        case .applied:
            key("applied")
            open()
        case .refused(let code, let rule):
            key("refused")
            open()
            key("code")
            output.writeString(code.rawValue)
            if let rule {
                key("rule")
                output.writeString(rule.rawValue)
            }
        }
        close()
        close()
        key("sequence")
        output.writeInteger(record.sequence)
        key("target")
        output.writeString(record.target)
        key("time")
        output.writeDate(record.time)
        close()
    }

    /// A set's elements sorted by their encoded bytes, as the encoder writes sets.
    private func sortedArray<Elements: Collection>(_ elements: Elements, _ writeElement: (Elements.Element) -> Void) {
        guard elements.count > 1 else { return array(Array(elements), writeElement) }
        let start = output.bytes.count
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(elements.count)
        for element in elements {
            let elementStart = output.bytes.count
            writeElement(element)
            ranges.append(elementStart..<output.bytes.count)
        }
        let written = Array(output.bytes[start...])
        ranges.sort { written[($0.lowerBound - start)..<($0.upperBound - start)].lexicographicallyPrecedes(written[($1.lowerBound - start)..<($1.upperBound - start)]) }
        output.bytes.removeSubrange(start...)
        output.bytes.append(UInt8(ascii: "["))
        for (index, range) in ranges.enumerated() {
            if index > 0 { output.bytes.append(UInt8(ascii: ",")) }
            output.bytes.append(contentsOf: written[(range.lowerBound - start)..<(range.upperBound - start)])
        }
        output.bytes.append(UInt8(ascii: "]"))
    }
}
