import DeputyCore
import Foundation

/// Reads the records the journal and the shared log carry most often straight from a parsed
/// document's tokens, giving the values their `Codable` conformances decode.
///
/// Through `Codable`, most of a record's decoding is the standard library's generic
/// machinery (a container, a type-erasing box and their metadata for every nested value),
/// not the JSON: a 187-byte `DELEGATE` record took about 7 µs, and every cluster node
/// decodes every record of the log (the writing node to check its own encoding too).
///
/// Like ``SnapshotListReader`` it takes only the shape the store's encoder writes
/// (``TapeReading``), and only for the commands it knows; for anything else it returns
/// `nil`, and the record goes through `Codable` as before. So it can make a decode faster
/// but never make it differ, nor report an error of its own.
struct TapeCommandReader: TapeReading {
    let tape: JSONTape

    init(_ tape: JSONTape) {
        self.tape = tape
    }

    // MARK: - Records

    /// The ``LoggedCommand`` at token `index`, or `nil` when this reader does not handle it.
    func loggedCommand(at index: Int) -> LoggedCommand? {
        try? loggedCommand(index)
    }

    /// The ``JournalRecord`` at token `index`, or `nil` when this reader does not handle it.
    func journalRecord(at index: Int) -> JournalRecord? {
        try? journalRecord(index)
    }

    private func loggedCommand(_ index: Int) throws(TapeUnreadable) -> LoggedCommand {
        var rules: Int?, context: CommandContext?, command: Command?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.loggedFields, &seen) {
            case 0: command = try self.command(value)
            case 1: context = try self.context(value)
            default: rules = try required(tape.integer(value, as: Int.self))
            }
        }
        return LoggedCommand(context: try required(context), command: try required(command), rules: try required(rules))
    }

    private func journalRecord(_ index: Int) throws(TapeUnreadable) -> JournalRecord {
        var sequence: UInt64?, time: Date?, context: CommandContext?, command: Command?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.journalFields, &seen) {
            case 0: command = try self.command(value)
            case 1: context = try self.context(value)
            case 2: sequence = try required(tape.integer(value, as: UInt64.self))
            default: time = try date(value)
            }
        }
        return JournalRecord(sequence: try required(sequence), time: try required(time), context: try required(context), command: try required(command))
    }

    // MARK: - Commands

    private func context(_ index: Int) throws(TapeUnreadable) -> CommandContext {
        var actor: Principal?, time: Date?, reauthenticated: Date?, factorVerified: Date?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.contextFields, &seen) {
            case 0: actor = try principal(value)
            case 1: factorVerified = try optional(value) { index throws(TapeUnreadable) in try date(index) }
            case 2: reauthenticated = try optional(value) { index throws(TapeUnreadable) in try date(index) }
            default: time = try date(value)
            }
        }
        return CommandContext(actor: try required(actor), time: try required(time), reauthenticatedAt: reauthenticated, factorVerifiedAt: factorVerified)
    }

    /// The commands a busy directory logs most: mailbox delegations made and removed, the
    /// daemon's records of delegated sends, failed logins and lockouts, users added and
    /// passwords set.
    private func command(_ index: Int) throws(TapeUnreadable) -> Command {
        let (name, values) = try enumCase(index, Self.commandNames)
        switch name {
        case 0: return .delegate(try newDelegation(payload(values)))
        case 1:
            var mailbox: EmailAddress?, delegate: EmailAddress?
            var seen = TapeFieldSet()
            try members(of: values) { key, value throws(TapeUnreadable) in
                switch try field(key, Self.undelegateFields, &seen) {
                case 0: delegate = try address(value)
                default: mailbox = try address(value)
                }
            }
            return .undelegate(mailbox: try required(mailbox), delegate: try required(delegate))
        case 2:
            var login: EmailAddress?, sender: EmailAddress?, delegation: EntityID?, details: DelegatedSendDetails?
            var seen = TapeFieldSet()
            try members(of: values) { key, value throws(TapeUnreadable) in
                switch try field(key, Self.delegatedSendFields, &seen) {
                case 0: delegation = try entity(value)
                case 1: details = try optional(value) { index throws(TapeUnreadable) in try delegatedSendDetails(index) }
                case 2: login = try address(value)
                default: sender = try address(value)
                }
            }
            return .recordDelegatedSend(login: try required(login), sender: try required(sender), delegation: try required(delegation), details: details)
        case 3: return .recordLoginFailure(try loginAttempt(payload(values)))
        case 4: return .recordLockout(try loginAttempt(payload(values)))
        case 5:
            var address: EmailAddress?, hash: PasswordHash?
            var seen = TapeFieldSet()
            try members(of: values) { key, value throws(TapeUnreadable) in
                switch try field(key, Self.pairFields, &seen) {
                case 0: address = try self.address(value)
                default: hash = try passwordHash(value)
                }
            }
            return .setPassword(try required(address), try required(hash))
        default: return .addUser(try newUser(payload(values)))
        }
    }

    // Each object's keys in the encoder's order, made once (a literal in the call would be
    // an array made for every member read).
    private static let commandNames = ["delegate", "undelegate", "recordDelegatedSend", "recordLoginFailure", "recordLockout", "setPassword", "addUser"]
    private static let loggedFields = ["command", "context", "rules"]
    private static let journalFields = ["command", "context", "sequence", "time"]
    private static let contextFields = ["actor", "factorVerifiedAt", "reauthenticatedAt", "time"]
    private static let undelegateFields = ["delegate", "mailbox"]
    private static let delegatedSendFields = ["delegation", "details", "login", "sender"]
    private static let pairFields = ["_0", "_1"]
    private static let newDelegationFields = ["delegate", "expiresAt", "mailbox", "permissions"]
    private static let newUserFields = ["address", "aliases", "displayName", "passwordHash", "policy", "recoveryAddress"]
    private static let detailsFields = ["messageID", "path", "permission", "queueID"]
    private static let loginAttemptFields = ["locked", "login", "source", "via"]

    private func newDelegation(_ index: Int) throws(TapeUnreadable) -> NewDelegation {
        var mailbox: EmailAddress?, delegate: EmailAddress?, permissions: PermissionSet?, expires: Date?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.newDelegationFields, &seen) {
            case 0: delegate = try address(value)
            case 1: expires = try optional(value) { index throws(TapeUnreadable) in try date(index) }
            case 2: mailbox = try address(value)
            default: permissions = PermissionSet(try array(value) { index throws(TapeUnreadable) in try raw(Permission.self, index) })
            }
        }
        return NewDelegation(mailbox: try required(mailbox), delegate: try required(delegate), permissions: try required(permissions), expiresAt: expires)
    }

    private func newUser(_ index: Int) throws(TapeUnreadable) -> NewUser {
        var address: EmailAddress?, aliases: [EmailAddress]?, displayName: String?, hash: PasswordHash?
        var policy: String?, recovery: EmailAddress?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.newUserFields, &seen) {
            case 0: address = try self.address(value)
            case 1: aliases = try array(value) { index throws(TapeUnreadable) in try self.address(index) }
            case 2: displayName = try string(value)
            case 3: hash = try passwordHash(value)
            case 4: policy = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            default: recovery = try optional(value) { index throws(TapeUnreadable) in try self.address(index) }
            }
        }
        return NewUser(
            address: try required(address), displayName: try required(displayName), passwordHash: try required(hash), aliases: try required(aliases),
            recoveryAddress: recovery, policy: policy
        )
    }

    /// Details as decoding makes them. Their initializer cleans the texts, which decoding
    /// does not, so the reader takes only details whose texts it leaves as they are (as the
    /// daemon wrote them).
    private func delegatedSendDetails(_ index: Int) throws(TapeUnreadable) -> DelegatedSendDetails {
        var messageID: String?, path: String?, permission: Permission?, queueID: String?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.detailsFields, &seen) {
            case 0: messageID = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            case 1: path = try string(value)
            case 2: permission = try raw(Permission.self, value)
            default: queueID = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            }
        }
        let details = DelegatedSendDetails(permission: try required(permission), queueID: queueID, messageID: messageID, path: try required(path))
        guard details.path == path, details.queueID == queueID, details.messageID == messageID else { throw TapeUnreadable() }
        return details
    }

    /// A login attempt as decoding makes it; as with details, only when its initializer
    /// leaves the texts as they are.
    private func loginAttempt(_ index: Int) throws(TapeUnreadable) -> LoginAttempt {
        var locked: String?, login: String?, source: String?, via: String?
        var seen = TapeFieldSet()
        try members(of: index) { key, value throws(TapeUnreadable) in
            switch try field(key, Self.loginAttemptFields, &seen) {
            case 0: locked = try optional(value) { index throws(TapeUnreadable) in try string(index) }
            case 1: login = try string(value)
            case 2: source = try string(value)
            default: via = try string(value)
            }
        }
        let attempt = LoginAttempt(login: try required(login), source: try required(source), via: try required(via), locked: locked)
        guard attempt.login == login, attempt.source == source, attempt.via == via else { throw TapeUnreadable() }
        return attempt
    }

    // MARK: - Values

    private func passwordHash(_ index: Int) throws(TapeUnreadable) -> PasswordHash {
        try required(PasswordHash(encoded: string(index)))
    }

    /// The token of `_0` in an enum case's associated values `{"_0": value}`.
    private func payload(_ values: Int) throws(TapeUnreadable) -> Int {
        guard tape.tokens[values].count == 1, tape.string(values + 1, equals: "_0") else { throw TapeUnreadable() }
        return values + 2
    }
}
