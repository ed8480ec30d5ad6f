import DeputyCore
import Foundation

/// One command as a shared log stores it: what every node needs to apply it exactly as the
/// node that wrote it did.
///
/// Unlike ``JournalRecord`` it carries no sequence: the log assigns that when it takes the
/// record, and the record's position is the directory's revision after it. ``rules`` names
/// the version of the directory's rules the writer applied, so that a node meeting a newer
/// one stops instead of applying it with older semantics.
public struct LoggedCommand: Codable, Hashable, Sendable {
    /// The version of the rules this program applies: a record above it is not applied.
    ///
    /// Version 2 added the audit retention (`MODIFY ORG auditdays=`), after which every
    /// command may drop old audit records. A node of version 1 would apply it as a change
    /// of nothing and keep records the others drop, so it must stop at that record instead.
    public static let currentRules = 2

    /// The rules version the writer applied.
    public var rules: Int
    /// Who applied the command, when, and how recently they re-authenticated.
    public var context: CommandContext
    /// The command.
    public var command: Command

    /// Creates a record marked with the oldest rules version that applies `command` as this
    /// program does (``rules(for:)``), unless `rules` says otherwise.
    public init(context: CommandContext, command: Command, rules: Int? = nil) {
        self.rules = rules ?? Self.rules(for: command)
        self.context = context
        self.command = command
    }

    /// The oldest rules version that applies `command` as this program does. Records are
    /// marked with it rather than with ``currentRules``, so that nodes of an older version
    /// go on applying the log during an upgrade until a command needs the newer rules.
    public static func rules(for command: Command) -> Int {
        if case .modifyOrganization(let changes) = command, changes.touchesAuditRetention { return 2 }
        return 1
    }
}

/// Turns ``LoggedCommand``s into the bytes a shared log stores, and back.
///
/// The bytes are the store's own JSON (``StorageJSONEncoder``: sorted keys, no spaces), so
/// the same command always gives the same bytes, on every node and every run, which a hash
/// chain over the log relies on. Encoding checks that the bytes read back as the same record,
/// as the journal does: what the writer's node applies is what every other node will apply.
public struct LoggedCommandCoder: Sendable {
    /// Creates a coder.
    public init() {}

    /// The record's bytes; refuses a record that would not read back as itself, or that is
    /// larger than a journal record may be.
    public func encode(_ record: LoggedCommand) throws(StoreError) -> [UInt8] {
        let body: [UInt8]
        do {
            body = try CommandRecordWriter.encode(record) ?? StorageJSONEncoder().encode(record)
        } catch {
            throw StoreError(.unstorable, "the command cannot be logged: \(error)")
        }
        guard body.count <= StorageLimits.maximumRecordLength else {
            throw StoreError(.unstorable, "the command is too large to log (\(body.count) bytes; the limit is \(StorageLimits.maximumRecordLength))")
        }
        guard (try? Self.decode(body)) == record else {
            throw StoreError(.unstorable, "the command does not read back from the log as written, so other nodes could apply something else; it was not applied")
        }
        return body
    }

    /// The record in `body`; the error names the byte offset where it stopped making sense.
    public func decode(_ body: [UInt8]) throws(StoreError) -> LoggedCommand {
        do {
            return try Self.decode(body)
        } catch {
            throw StoreError(.corruptJournal, "a logged command does not parse at byte \(error.offset): \(error.reason)", offset: error.offset)
        }
    }

    /// The record in `body`: the commonest commands read straight from the document's
    /// tokens (``TapeCommandReader``), any other through `Codable`.
    private static func decode(_ body: [UInt8]) throws(StorageJSONDecoder.Failure) -> LoggedCommand {
        try StorageJSONDecoder().decode(LoggedCommand.self, from: body) { TapeCommandReader($0).loggedCommand(at: 0) }
    }
}
