import DeputyCore
import Foundation
import HashTreeCollections

/// Reads the users, groups, delegations and audit records of a snapshot straight from its tape, without
/// going through `Codable`.
///
/// They are almost all of a snapshot, and decoding them through `Decoder` cost most of a
/// load: a container box, a generic metadata lookup and an existential per nested value.
/// This reader accepts only the plain shape the encoder writes (every key once, nothing
/// unknown, enums as `{"case":{"_0":value}}`) and builds the same values the `Codable`
/// conformances would. Anything else, from a bad address to a key it does not know, makes
/// it give up with ``Unreadable``, and the caller decodes that part through `Codable`,
/// which either reads it all the same or reports the fault with its offset and path. So
/// this reader decides nothing about what is valid; a test checks that both agree.
struct SnapshotListReader {
    /// This reader does not read the value; `Codable` must.
    struct Unreadable: Error {}

    let tape: JSONTape

    // MARK: - Entries

    func user(at object: Int) throws(Unreadable) -> User {
        var id: EntityID?, address: EmailAddress?, aliases: [EmailAddress]?, displayName: String?, role: Role?
        var customRoles: Set<CustomAdminRole>?, passwordHash: PasswordHash?, blocked: Bool?, createdAt: Date?
        var recoveryAddress: EmailAddress?, policy: String?
        var seen = FieldSet()
        try members(of: object) { key, value throws(Unreadable) in
            switch try field(key, Self.userFields, &seen) {
            case 0: address = try self.address(value)
            case 1: aliases = try array(value) { index throws(Unreadable) in try self.address(index) }
            case 2: blocked = try bool(value)
            case 3: createdAt = try date(value)
            case 4: customRoles = try unique(Set.init, array(value) { index throws(Unreadable) in try raw(CustomAdminRole.self, index) })
            case 5: displayName = try string(value)
            case 6: id = try entity(value)
            case 7: passwordHash = try required(PasswordHash(encoded: string(value)))
            case 8: policy = try optional(value) { index throws(Unreadable) in try string(index) }
            case 9: recoveryAddress = try optional(value) { index throws(Unreadable) in try self.address(index) }
            default: role = try raw(Role.self, value)
            }
        }
        guard let id, let address, let aliases, let displayName, let role, let customRoles, let passwordHash, let blocked, let createdAt else {
            throw Unreadable()
        }
        return User(
            id: id, address: address, aliases: aliases, displayName: displayName, role: role, customRoles: customRoles,
            passwordHash: passwordHash, blocked: blocked, recoveryAddress: recoveryAddress, policy: policy, createdAt: createdAt
        )
    }

    func group(at object: Int) throws(Unreadable) -> Group {
        var id: EntityID?, address: EmailAddress?, name: String?, kind: GroupKind?, owner: EntityID?
        var members: TreeSet<GroupMember>?, membersMaySendAs: Bool?, policy: String?, createdAt: Date?
        var seen = FieldSet()
        try self.members(of: object) { key, value throws(Unreadable) in
            switch try field(key, Self.groupFields, &seen) {
            case 0: address = try self.address(value)
            case 1: createdAt = try date(value)
            case 2: id = try entity(value)
            case 3: kind = try raw(GroupKind.self, value)
            case 4: members = try unique(TreeSet.init, array(value) { index throws(Unreadable) in try member(index) })
            case 5: membersMaySendAs = try bool(value)
            case 6: name = try string(value)
            case 7: owner = try optional(value) { index throws(Unreadable) in try entity(index) }
            default: policy = try optional(value) { index throws(Unreadable) in try string(index) }
            }
        }
        guard let id, let address, let name, let kind, let members, let membersMaySendAs, let createdAt else { throw Unreadable() }
        return Group(
            id: id, address: address, name: name, kind: kind, owner: owner, members: members, membersMaySendAs: membersMaySendAs,
            policy: policy, createdAt: createdAt
        )
    }

    func delegation(at object: Int) throws(Unreadable) -> Delegation {
        var id: EntityID?, mailbox: EntityID?, delegate: Delegate?, permissions: PermissionSet?, grantedBy: Principal?
        var grantedAt: Date?, expiresAt: Date?
        var seen = FieldSet()
        try members(of: object) { key, value throws(Unreadable) in
            switch try field(key, Self.delegationFields, &seen) {
            case 0:
                let (name, payload) = try enumCase(value)
                switch name {
                case 0: delegate = .user(try entity(required(payload)))
                case 1: delegate = .group(try entity(required(payload)))
                default: throw Unreadable()
                }
            case 1: expiresAt = try optional(value) { index throws(Unreadable) in try date(index) }
            case 2: grantedAt = try date(value)
            case 3: grantedBy = try principal(value)
            case 4: id = try entity(value)
            case 5: mailbox = try entity(value)
            default: permissions = PermissionSet(try array(value) { index throws(Unreadable) in try raw(Permission.self, index) })
            }
        }
        guard let id, let mailbox, let delegate, let permissions, let grantedBy, let grantedAt else { throw Unreadable() }
        return Delegation(
            id: id, mailbox: mailbox, delegate: delegate, permissions: permissions, grantedBy: grantedBy, grantedAt: grantedAt,
            expiresAt: expiresAt
        )
    }

    func auditRecord(at object: Int) throws(Unreadable) -> AuditRecord {
        var sequence: UInt64?, time: Date?, actor: String?, actorPrincipal: Principal?, action: String?, target: String?
        var detail: String?, outcome: AuditRecord.Outcome?
        var seen = FieldSet()
        try members(of: object) { key, value throws(Unreadable) in
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
        guard let sequence, let time, let actor, let actorPrincipal, let action, let target, let detail, let outcome else { throw Unreadable() }
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
    /// Case names of the enums with a payload, in the order `enumCase` numbers them.
    private static let caseNames = ["user", "group", "external", "service", "system"]

    private func member(_ index: Int) throws(Unreadable) -> GroupMember {
        let (name, payload) = try enumCase(index)
        switch name {
        case 0: return .user(try entity(required(payload)))
        case 1: return .group(try entity(required(payload)))
        case 2: return .external(try address(required(payload)))
        default: throw Unreadable()
        }
    }

    /// `{"applied":{}}` or `{"refused":{"code":..., "rule":...}}`, the rule optional.
    private func outcome(_ index: Int) throws(Unreadable) -> AuditRecord.Outcome {
        let outer = tape.tokens[index]
        guard outer.kind == .object, outer.count == 1, tape.tokens[index + 2].kind == .object else { throw Unreadable() }
        if tape.string(index + 1, equals: "applied") {
            guard tape.tokens[index + 2].count == 0 else { throw Unreadable() }
            return .applied
        }
        guard tape.string(index + 1, equals: "refused") else { throw Unreadable() }
        var code: DirectoryError.Code?, rule: Rule?
        var seen = FieldSet()
        try members(of: index + 2) { key, value throws(Unreadable) in
            switch try field(key, ["code", "rule"], &seen) {
            case 0: code = DirectoryError.Code(rawValue: try string(value))
            default: rule = try optional(value) { index throws(Unreadable) in try raw(Rule.self, index) }
            }
        }
        return .refused(code: try required(code), rule: rule)
    }

    private func principal(_ index: Int) throws(Unreadable) -> Principal {
        let (name, payload) = try enumCase(index)
        switch (name, payload) {
        case (0, let payload?): return .user(try entity(payload))
        case (3, let payload?): return .service(try entity(payload))
        case (4, nil): return .system
        default: throw Unreadable()
        }
    }

    /// An enum as `Codable` synthesises it: `{"case":{"_0":payload}}`, or `{"case":{}}`
    /// for a case without one. Returns the case's number in ``caseNames`` and the payload's
    /// token.
    private func enumCase(_ index: Int) throws(Unreadable) -> (name: Int, payload: Int?) {
        let outer = tape.tokens[index]
        guard outer.kind == .object, outer.count == 1, tape.tokens[index + 2].kind == .object else { throw Unreadable() }
        guard let name = Self.caseNames.firstIndex(where: { tape.string(index + 1, equals: $0) }) else { throw Unreadable() }
        switch tape.tokens[index + 2].count {
        case 0: return (name, nil)
        case 1:
            guard tape.string(index + 3, equals: "_0") else { throw Unreadable() }
            return (name, index + 4)
        default: throw Unreadable()
        }
    }

    // MARK: - Scalars

    private func entity(_ index: Int) throws(Unreadable) -> EntityID {
        guard let value = tape.integer(index, as: UInt64.self) else { throw Unreadable() }
        return EntityID(value)
    }

    private func address(_ index: Int) throws(Unreadable) -> EmailAddress {
        try required(EmailAddress(string(index)))
    }

    private func string(_ index: Int) throws(Unreadable) -> String {
        guard tape.tokens[index].kind == .string else { throw Unreadable() }
        return tape.string(index)
    }

    private func bool(_ index: Int) throws(Unreadable) -> Bool {
        switch tape.tokens[index].kind {
        case .true: true
        case .false: false
        default: throw Unreadable()
        }
    }

    private func date(_ index: Int) throws(Unreadable) -> Date {
        try required(StorageTimestamp.parse(string(index)))
    }

    private func raw<T: RawRepresentable<String>>(_ type: T.Type, _ index: Int) throws(Unreadable) -> T {
        try required(T(rawValue: string(index)))
    }

    private func optional<T>(_ index: Int, _ read: (Int) throws(Unreadable) -> T) throws(Unreadable) -> T? {
        tape.tokens[index].kind == .null ? nil : try read(index)
    }

    private func array<T>(_ index: Int, _ read: (Int) throws(Unreadable) -> T) throws(Unreadable) -> [T] {
        let token = tape.tokens[index]
        guard token.kind == .array else { throw Unreadable() }
        var values: [T] = []
        values.reserveCapacity(Int(token.count))
        var element = index + 1
        while element < Int(token.end) {
            values.append(try read(element))
            element = tape.next(after: element)
        }
        return values
    }

    // MARK: - Objects

    /// Calls `body` with the key and value token of each member of the object at `index`.
    private func members(of index: Int, _ body: (_ key: Int, _ value: Int) throws(Unreadable) -> Void) throws(Unreadable) {
        let token = tape.tokens[index]
        guard token.kind == .object else { throw Unreadable() }
        var key = index + 1
        while key < Int(token.end) {
            try body(key, key + 1)
            key = tape.next(after: key + 1)
        }
    }

    /// Which of `names` the key at `index` is; a key not among them, or seen before, is
    /// left to `Codable`.
    private func field(_ index: Int, _ names: [String], _ seen: inout FieldSet) throws(Unreadable) -> Int {
        guard let field = names.firstIndex(where: { tape.string(index, equals: $0) }), seen.insert(field) else { throw Unreadable() }
        return field
    }

    private func required<T>(_ value: T?) throws(Unreadable) -> T {
        guard let value else { throw Unreadable() }
        return value
    }

    /// The set of `elements`, which must not repeat one (`TreeSet`'s decoding refuses that).
    private func unique<S: Collection>(_ makeSet: ([S.Element]) -> S, _ elements: [S.Element]) throws(Unreadable) -> S {
        let set = makeSet(elements)
        guard set.count == elements.count else { throw Unreadable() }
        return set
    }

    /// The fields of one object seen so far.
    private struct FieldSet {
        private var bits: UInt32 = 0
        /// Adds `field`; false when it was already there.
        mutating func insert(_ field: Int) -> Bool {
            let bit: UInt32 = 1 << UInt32(field)
            defer { bits |= bit }
            return bits & bit == 0
        }
    }
}
