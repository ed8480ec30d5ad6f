import DeputyCore
import Foundation
import HashTreeCollections

/// Reads the users, groups, delegations and audit records of a snapshot straight from its tape, without
/// going through `Codable`.
///
/// They are almost all of a snapshot, and decoding them through `Decoder` cost most of a
/// load: a container box, a generic metadata lookup and an existential per nested value.
/// This reader accepts only the plain shape the encoder writes (``TapeReading``) and gives
/// up with ``TapeUnreadable`` on anything else, from a bad address to a key it does not
/// know; the caller then decodes that part through `Codable`. A test checks that both agree.
struct SnapshotListReader: TapeReading {
    let tape: JSONTape

    // MARK: - Entries

    func user(at object: Int) throws(TapeUnreadable) -> User {
        var id: EntityID?, address: EmailAddress?, aliases: [EmailAddress]?, displayName: String?, role: Role?
        var customRoles: Set<CustomAdminRole>?, passwordHash: PasswordHash?, blocked: Bool?, createdAt: Date?
        var recoveryAddress: EmailAddress?, policy: String?
        var seen = TapeFieldSet()
        try members(of: object) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.userFields, &seen) {
            case 0: address = try self.address(value)
            case 1: aliases = try array(value) { index throws(TapeUnreadable) in try self.address(index) }
            case 2: blocked = try bool(value)
            case 3: createdAt = try date(value)
            case 4: customRoles = try unique(Set.init, array(value) { index throws(TapeUnreadable) in try raw(CustomAdminRole.self, index) })
            case 5: displayName = try string(value)
            case 6: id = try entity(value)
            case 7: passwordHash = try required(PasswordHash(encoded: string(value)))
            case 8: policy = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            case 9: recoveryAddress = try optional(value) { index throws(TapeUnreadable) in try self.address(index) }
            default: role = try raw(Role.self, value)
            }
        }
        guard let id, let address, let aliases, let displayName, let role, let customRoles, let passwordHash, let blocked, let createdAt else {
            throw TapeUnreadable()
        }
        return User(
            id: id, address: address, aliases: aliases, displayName: displayName, role: role, customRoles: customRoles,
            passwordHash: passwordHash, blocked: blocked, recoveryAddress: recoveryAddress, policy: policy, createdAt: createdAt
        )
    }

    func group(at object: Int) throws(TapeUnreadable) -> Group {
        var id: EntityID?, address: EmailAddress?, name: String?, kind: GroupKind?, owner: EntityID?
        var members: TreeSet<GroupMember>?, membersMaySendAs: Bool?, policy: String?, createdAt: Date?
        var seen = TapeFieldSet()
        try self.members(of: object) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.groupFields, &seen) {
            case 0: address = try self.address(value)
            case 1: createdAt = try date(value)
            case 2: id = try entity(value)
            case 3: kind = try raw(GroupKind.self, value)
            case 4: members = try unique(TreeSet.init, array(value) { index throws(TapeUnreadable) in try member(index) })
            case 5: membersMaySendAs = try bool(value)
            case 6: name = try string(value)
            case 7: owner = try optional(value) { index throws(TapeUnreadable) in try entity(index) }
            default: policy = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            }
        }
        guard let id, let address, let name, let kind, let members, let membersMaySendAs, let createdAt else { throw TapeUnreadable() }
        return Group(
            id: id, address: address, name: name, kind: kind, owner: owner, members: members, membersMaySendAs: membersMaySendAs,
            policy: policy, createdAt: createdAt
        )
    }

    func delegation(at object: Int) throws(TapeUnreadable) -> Delegation {
        var id: EntityID?, mailbox: EntityID?, delegate: Delegate?, permissions: PermissionSet?, grantedBy: Principal?
        var grantedAt: Date?, expiresAt: Date?
        var seen = TapeFieldSet()
        try members(of: object) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.delegationFields, &seen) {
            case 0:
                let (name, payload) = try enumPayload(value, Self.delegateCases)
                switch name {
                case 0: delegate = .user(try entity(required(payload)))
                case 1: delegate = .group(try entity(required(payload)))
                default: throw TapeUnreadable()
                }
            case 1: expiresAt = try optional(value) { index throws(TapeUnreadable) in try date(index) }
            case 2: grantedAt = try date(value)
            case 3: grantedBy = try principal(value)
            case 4: id = try entity(value)
            case 5: mailbox = try entity(value)
            default: permissions = PermissionSet(try array(value) { index throws(TapeUnreadable) in try raw(Permission.self, index) })
            }
        }
        guard let id, let mailbox, let delegate, let permissions, let grantedBy, let grantedAt else { throw TapeUnreadable() }
        return Delegation(
            id: id, mailbox: mailbox, delegate: delegate, permissions: permissions, grantedBy: grantedBy, grantedAt: grantedAt,
            expiresAt: expiresAt
        )
    }

    func auditRecord(at object: Int) throws(TapeUnreadable) -> AuditRecord {
        var sequence: UInt64?, time: Date?, actor: String?, actorPrincipal: Principal?, action: String?, target: String?
        var detail: String?, outcome: AuditRecord.Outcome?
        var seen = TapeFieldSet()
        try members(of: object) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.auditFields, &seen) {
            case 0: action = try string(value)
            case 1: actor = try string(value)
            case 2: actorPrincipal = try principal(value)
            case 3: detail = try string(value)
            case 4: outcome = try self.outcome(value)
            case 5: sequence = try required(tape.integer(value, as: UInt64.self))
            case 6: target = try string(value)
            default: time = try date(value)
            }
        }
        guard let sequence, let time, let actor, let actorPrincipal, let action, let target, let detail, let outcome else { throw TapeUnreadable() }
        return AuditRecord(
            sequence: sequence, time: time, actor: actor, actorPrincipal: actorPrincipal, action: action, target: target,
            detail: detail, outcome: outcome
        )
    }

    // MARK: - Nested values

    private static let userFields = [
        "address", "aliases", "blocked", "createdAt", "customRoles", "displayName", "id", "passwordHash", "policy",
        "recoveryAddress", "role",
    ]
    private static let groupFields = ["address", "createdAt", "id", "kind", "members", "membersMaySendAs", "name", "owner", "policy"]
    private static let delegationFields = ["delegate", "expiresAt", "grantedAt", "grantedBy", "id", "mailbox", "permissions"]
    private static let auditFields = ["action", "actor", "actorPrincipal", "detail", "outcome", "sequence", "target", "time"]
    private static let refusalFields = ["code", "rule"]
    private static let memberCases = ["user", "group", "external"]
    private static let delegateCases = ["user", "group"]
    private static let outcomeCases = ["applied", "refused"]

    private func member(_ index: Int) throws(TapeUnreadable) -> GroupMember {
        let (name, payload) = try enumPayload(index, Self.memberCases)
        switch name {
        case 0: return .user(try entity(required(payload)))
        case 1: return .group(try entity(required(payload)))
        case 2: return .external(try address(required(payload)))
        default: throw TapeUnreadable()
        }
    }

    /// `{"applied":{}}` or `{"refused":{"code":..., "rule":...}}`, the rule optional.
    private func outcome(_ index: Int) throws(TapeUnreadable) -> AuditRecord.Outcome {
        let (name, values) = try enumCase(index, Self.outcomeCases)
        if name == 0 {
            guard tape.tokens[values].count == 0 else { throw TapeUnreadable() }
            return .applied
        }
        var code: DirectoryError.Code?, rule: Rule?
        var seen = TapeFieldSet()
        try members(of: values) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.refusalFields, &seen) {
            case 0: code = DirectoryError.Code(rawValue: try string(value))
            default: rule = try optional(value) { index throws(TapeUnreadable) in try raw(Rule.self, index) }
            }
        }
        return .refused(code: try required(code), rule: rule)
    }

    /// The set of `elements`, which must not repeat one (`TreeSet`'s decoding refuses that).
    private func unique<S: Collection>(_ makeSet: ([S.Element]) -> S, _ elements: [S.Element]) throws(TapeUnreadable) -> S {
        let set = makeSet(elements)
        guard set.count == elements.count else { throw TapeUnreadable() }
        return set
    }
}
