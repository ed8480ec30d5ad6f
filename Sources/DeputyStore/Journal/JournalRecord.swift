import DeputyCore
import Foundation

/// One command as the journal stores it: enough to apply it again exactly as it was.
///
/// Every command the store commits is journaled, the ones the directory refused included:
/// a refusal still writes the audit log and advances the revision, so replaying every
/// record in order through ``DeputyCore/Directory/apply(_:context:)`` rebuilds the same
/// directory, audit log and all. The sequence of a record is the directory's revision
/// after applying it.
public struct JournalRecord: Codable, Hashable, Sendable {
    /// The record's position, from 1, equal to the directory's revision after it.
    public var sequence: UInt64
    /// When the store wrote the record; for people, replay does not read it.
    public var time: Date
    /// Who applied the command, when, and how recently they re-authenticated.
    public var context: CommandContext
    /// The command.
    public var command: Command

    /// Creates a record.
    public init(sequence: UInt64, time: Date, context: CommandContext, command: Command) {
        self.sequence = sequence
        self.time = time
        self.context = context
        self.command = command
    }
}
