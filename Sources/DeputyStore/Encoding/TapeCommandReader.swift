import DeputyCore
import Foundation

/// Reads the records the journal and the shared log carry most often straight from a parsed
/// document's tokens, giving the values their `Codable` conformances decode.
///
/// Through `Codable`, most of a record's decoding is the standard library's generic
/// machinery (a container, a type-erasing box and their metadata for every nested value),
/// not the JSON: a 187-byte `DELEGATE` record took about 6.5 µs, and every cluster node
/// decodes every record of the log (the writing node to check its own encoding too).
///
/// The reader takes only documents in the shape the store's encoder writes (objects whose
/// every key it knows, none repeated; enum cases as one-member objects) for the commands it
/// knows, and returns `nil` for anything else, which then goes through `Codable` as before.
/// So it can make a decode faster but never make it differ, nor report an error of its own.
struct TapeCommandReader {
    let tape: JSONTape

    init(_ tape: JSONTape) {
        self.tape = tape
    }

    // MARK: - Records

    /// The ``LoggedCommand`` at token `index`, or `nil` when this reader does not handle it.
    func loggedCommand(at index: Int) -> LoggedCommand? {
        var rules: Int?, context: CommandContext?, command: Command?
        let read = members(of: index) { key, value in
            if tape.string(key, is: "rules") {
                guard rules == nil, let value = tape.integer(value, as: Int.self) else { return false }
                rules = value
            } else if tape.string(key, is: "context") {
                guard context == nil, let value = self.context(at: value) else { return false }
                context = value
            } else if tape.string(key, is: "command") {
                guard command == nil, let value = self.command(at: value) else { return false }
                command = value
            } else {
                return false
            }
            return true
        }
        guard read, let rules, let context, let command else { return nil }
        return LoggedCommand(context: context, command: command, rules: rules)
    }

    /// The ``JournalRecord`` at token `index`, or `nil` when this reader does not handle it.
    func journalRecord(at index: Int) -> JournalRecord? {
        var sequence: UInt64?, time: Date?, context: CommandContext?, command: Command?
        let read = members(of: index) { key, value in
            if tape.string(key, is: "sequence") {
                guard sequence == nil, let value = tape.integer(value, as: UInt64.self) else { return false }
                sequence = value
            } else if tape.string(key, is: "time") {
                guard time == nil, let value = date(at: value) else { return false }
                time = value
            } else if tape.string(key, is: "context") {
                guard context == nil, let value = self.context(at: value) else { return false }
                context = value
            } else if tape.string(key, is: "command") {
                guard command == nil, let value = self.command(at: value) else { return false }
                command = value
            } else {
                return false
            }
            return true
        }
        guard read, let sequence, let time, let context, let command else { return nil }
        return JournalRecord(sequence: sequence, time: time, context: context, command: command)
    }

    // MARK: - Commands

    /// The ``CommandContext`` at token `index`.
    func context(at index: Int) -> CommandContext? {
        var actor: Principal?, time: Date?
        // Optional members: absent (outer nil) or present, possibly null.
        var reauthenticated: Date??, factorVerified: Date??
        let read = members(of: index) { key, value in
            if tape.string(key, is: "actor") {
                guard actor == nil, let value = principal(at: value) else { return false }
                actor = value
            } else if tape.string(key, is: "time") {
                guard time == nil, let value = date(at: value) else { return false }
                time = value
            } else if tape.string(key, is: "reauthenticatedAt") {
                guard reauthenticated == nil, let value = optionalDate(at: value) else { return false }
                reauthenticated = value
            } else if tape.string(key, is: "factorVerifiedAt") {
                guard factorVerified == nil, let value = optionalDate(at: value) else { return false }
                factorVerified = value
            } else {
                return false
            }
            return true
        }
        guard read, let actor, let time else { return nil }
        return CommandContext(actor: actor, time: time, reauthenticatedAt: reauthenticated ?? nil, factorVerifiedAt: factorVerified ?? nil)
    }

    /// The ``Command`` at token `index`, for the commands a busy directory logs most: mailbox
    /// delegations made and removed, the records of delegated sends and of failed logins,
    /// users added and passwords set.
    func command(at index: Int) -> Command? {
        guard let (key, value) = onlyMember(of: index) else { return nil }
        if tape.string(key, is: "delegate") {
            return payload(of: value).flatMap(newDelegation(at:)).map(Command.delegate)
        }
        if tape.string(key, is: "undelegate") {
            var mailbox: EmailAddress?, delegate: EmailAddress?
            let read = members(of: value) { key, value in
                if tape.string(key, is: "mailbox") {
                    guard mailbox == nil, let value = address(at: value) else { return false }
                    mailbox = value
                } else if tape.string(key, is: "delegate") {
                    guard delegate == nil, let value = address(at: value) else { return false }
                    delegate = value
                } else {
                    return false
                }
                return true
            }
            guard read, let mailbox, let delegate else { return nil }
            return .undelegate(mailbox: mailbox, delegate: delegate)
        }
        if tape.string(key, is: "recordDelegatedSend") {
            var login: EmailAddress?, sender: EmailAddress?, delegation: EntityID?
            var details: DelegatedSendDetails??
            let read = members(of: value) { key, value in
                if tape.string(key, is: "login") {
                    guard login == nil, let value = address(at: value) else { return false }
                    login = value
                } else if tape.string(key, is: "sender") {
                    guard sender == nil, let value = address(at: value) else { return false }
                    sender = value
                } else if tape.string(key, is: "delegation") {
                    guard delegation == nil, let value = tape.integer(value, as: UInt64.self) else { return false }
                    delegation = EntityID(value)
                } else if tape.string(key, is: "details") {
                    guard details == nil else { return false }
                    if tape.tokens[value].kind == .null {
                        details = .some(nil)
                    } else {
                        guard let value = delegatedSendDetails(at: value) else { return false }
                        details = value
                    }
                } else {
                    return false
                }
                return true
            }
            guard read, let login, let sender, let delegation else { return nil }
            return .recordDelegatedSend(login: login, sender: sender, delegation: delegation, details: details ?? nil)
        }
        if tape.string(key, is: "recordLoginFailure") {
            return payload(of: value).flatMap(loginAttempt(at:)).map(Command.recordLoginFailure)
        }
        if tape.string(key, is: "recordLockout") {
            return payload(of: value).flatMap(loginAttempt(at:)).map(Command.recordLockout)
        }
        if tape.string(key, is: "setPassword") {
            var address: EmailAddress?, hash: PasswordHash?
            let read = members(of: value) { key, value in
                if tape.string(key, is: "_0") {
                    guard address == nil, let value = self.address(at: value) else { return false }
                    address = value
                } else if tape.string(key, is: "_1") {
                    guard hash == nil, let value = passwordHash(at: value) else { return false }
                    hash = value
                } else {
                    return false
                }
                return true
            }
            guard read, let address, let hash else { return nil }
            return .setPassword(address, hash)
        }
        if tape.string(key, is: "addUser") {
            return payload(of: value).flatMap(newUser(at:)).map(Command.addUser)
        }
        return nil
    }

    private func newUser(at index: Int) -> NewUser? {
        var address: EmailAddress?, displayName: String?, hash: PasswordHash?, aliases: [EmailAddress]?
        var recovery: EmailAddress??, policy: String??
        let read = members(of: index) { key, value in
            if tape.string(key, is: "address") {
                guard address == nil, let value = self.address(at: value) else { return false }
                address = value
            } else if tape.string(key, is: "displayName") {
                guard displayName == nil, let value = string(at: value) else { return false }
                displayName = value
            } else if tape.string(key, is: "passwordHash") {
                guard hash == nil, let value = passwordHash(at: value) else { return false }
                hash = value
            } else if tape.string(key, is: "aliases") {
                guard aliases == nil, let value = addresses(at: value) else { return false }
                aliases = value
            } else if tape.string(key, is: "recoveryAddress") {
                guard recovery == nil else { return false }
                if tape.tokens[value].kind == .null {
                    recovery = .some(nil)
                } else {
                    guard let value = self.address(at: value) else { return false }
                    recovery = value
                }
            } else if tape.string(key, is: "policy") {
                guard policy == nil, let value = optionalString(at: value) else { return false }
                policy = value
            } else {
                return false
            }
            return true
        }
        guard read, let address, let displayName, let hash, let aliases else { return nil }
        return NewUser(address: address, displayName: displayName, passwordHash: hash, aliases: aliases, recoveryAddress: recovery ?? nil, policy: policy ?? nil)
    }

    /// Details as decoding makes them. Their initializer cleans the texts, which decoding
    /// does not, so the reader takes only details whose texts it leaves as they are (as the
    /// daemon wrote them).
    private func delegatedSendDetails(at index: Int) -> DelegatedSendDetails? {
        var permission: Permission?, path: String?, queueID: String??, messageID: String??
        let read = members(of: index) { key, value in
            if tape.string(key, is: "permission") {
                guard permission == nil, tape.tokens[value].kind == .string, let value = Permission(rawValue: tape.string(value)) else { return false }
                permission = value
            } else if tape.string(key, is: "path") {
                guard path == nil, let value = string(at: value) else { return false }
                path = value
            } else if tape.string(key, is: "queueID") {
                guard queueID == nil, let value = optionalString(at: value) else { return false }
                queueID = value
            } else if tape.string(key, is: "messageID") {
                guard messageID == nil, let value = optionalString(at: value) else { return false }
                messageID = value
            } else {
                return false
            }
            return true
        }
        guard read, let permission, let path else { return nil }
        let details = DelegatedSendDetails(permission: permission, queueID: queueID ?? nil, messageID: messageID ?? nil, path: path)
        guard details.path == path, details.queueID == queueID ?? nil, details.messageID == messageID ?? nil else { return nil }
        return details
    }

    /// A login attempt as decoding makes it; as with details, only when its initializer
    /// leaves the texts as they are.
    private func loginAttempt(at index: Int) -> LoginAttempt? {
        var login: String?, source: String?, via: String?, locked: String??
        let read = members(of: index) { key, value in
            if tape.string(key, is: "login") {
                guard login == nil, let value = string(at: value) else { return false }
                login = value
            } else if tape.string(key, is: "source") {
                guard source == nil, let value = string(at: value) else { return false }
                source = value
            } else if tape.string(key, is: "via") {
                guard via == nil, let value = string(at: value) else { return false }
                via = value
            } else if tape.string(key, is: "locked") {
                guard locked == nil, let value = optionalString(at: value) else { return false }
                locked = value
            } else {
                return false
            }
            return true
        }
        guard read, let login, let source, let via else { return nil }
        let attempt = LoginAttempt(login: login, source: source, via: via, locked: locked ?? nil)
        guard attempt.login == login, attempt.source == source, attempt.via == via else { return nil }
        return attempt
    }

    private func newDelegation(at index: Int) -> NewDelegation? {
        var mailbox: EmailAddress?, delegate: EmailAddress?, permissions: PermissionSet?
        var expires: Date??
        let read = members(of: index) { key, value in
            if tape.string(key, is: "mailbox") {
                guard mailbox == nil, let value = address(at: value) else { return false }
                mailbox = value
            } else if tape.string(key, is: "delegate") {
                guard delegate == nil, let value = address(at: value) else { return false }
                delegate = value
            } else if tape.string(key, is: "permissions") {
                guard permissions == nil, let value = permissionSet(at: value) else { return false }
                permissions = value
            } else if tape.string(key, is: "expiresAt") {
                guard expires == nil, let value = optionalDate(at: value) else { return false }
                expires = value
            } else {
                return false
            }
            return true
        }
        guard read, let mailbox, let delegate, let permissions else { return nil }
        return NewDelegation(mailbox: mailbox, delegate: delegate, permissions: permissions, expiresAt: expires ?? nil)
    }

    // MARK: - Values

    private func principal(at index: Int) -> Principal? {
        guard let (key, value) = onlyMember(of: index) else { return nil }
        if tape.string(key, is: "user") {
            return payload(of: value).flatMap { tape.integer($0, as: UInt64.self) }.map { .user(EntityID($0)) }
        }
        if tape.string(key, is: "service") {
            return payload(of: value).flatMap { tape.integer($0, as: UInt64.self) }.map { .service(EntityID($0)) }
        }
        if tape.string(key, is: "system") {
            let token = tape.tokens[value]
            return token.kind == .object && token.count == 0 ? .system : nil
        }
        return nil
    }

    private func string(at index: Int) -> String? {
        tape.tokens[index].kind == .string ? tape.string(index) : nil
    }

    /// A string that may be null: `.some(nil)` for null, `nil` for anything but a string or null.
    private func optionalString(at index: Int) -> String?? {
        if tape.tokens[index].kind == .null { return .some(nil) }
        return string(at: index).map { .some($0) }
    }

    private func passwordHash(at index: Int) -> PasswordHash? {
        string(at: index).flatMap { PasswordHash(encoded: $0) }
    }

    private func addresses(at index: Int) -> [EmailAddress]? {
        let token = tape.tokens[index]
        guard token.kind == .array else { return nil }
        var list: [EmailAddress] = []
        list.reserveCapacity(Int(token.count))
        var element = index + 1
        while element < Int(token.end) {
            guard let address = address(at: element) else { return nil }
            list.append(address)
            element = tape.next(after: element)
        }
        return list
    }

    /// An address as ``EmailAddress``'s decoding makes it: the text, validated and lowercased.
    private func address(at index: Int) -> EmailAddress? {
        guard tape.tokens[index].kind == .string else { return nil }
        return EmailAddress(tape.string(index))
    }

    private func date(at index: Int) -> Date? {
        let token = tape.tokens[index]
        guard token.kind == .string else { return nil }
        if token.escaped { return StorageTimestamp.parse(tape.string(index)) }
        return tape.withUnescapedBytes(index) { StorageTimestamp.parse(bytes: $0) }
    }

    /// A date that may be null: `.some(nil)` for null, `nil` for anything but a date or null.
    private func optionalDate(at index: Int) -> Date?? {
        if tape.tokens[index].kind == .null { return .some(nil) }
        return date(at: index).map { .some($0) }
    }

    private func permissionSet(at index: Int) -> PermissionSet? {
        let token = tape.tokens[index]
        guard token.kind == .array else { return nil }
        var list: [Permission] = []
        list.reserveCapacity(Int(token.count))
        var element = index + 1
        while element < Int(token.end) {
            guard tape.tokens[element].kind == .string, let permission = Permission(rawValue: tape.string(element)) else { return nil }
            list.append(permission)
            element = tape.next(after: element)
        }
        return PermissionSet(list)
    }

    // MARK: - Shapes

    /// Walks an object's members: `body` gets each key's token and its value's token, and
    /// says whether it took the member. False when `index` is not an object or `body`
    /// refused a member.
    private func members(of index: Int, _ body: (_ key: Int, _ value: Int) -> Bool) -> Bool {
        let token = tape.tokens[index]
        guard token.kind == .object else { return false }
        var key = index + 1
        while key < Int(token.end) {
            guard body(key, key + 1) else { return false }
            key = tape.next(after: key + 1)
        }
        return true
    }

    /// The key and value tokens of an object with exactly one member: an enum case.
    private func onlyMember(of index: Int) -> (key: Int, value: Int)? {
        let token = tape.tokens[index]
        guard token.kind == .object, token.count == 1 else { return nil }
        return (index + 1, index + 2)
    }

    /// The value of an associated value's object `{"_0": value}`.
    private func payload(of index: Int) -> Int? {
        guard let (key, value) = onlyMember(of: index), tape.string(key, is: "_0") else { return nil }
        return value
    }
}
