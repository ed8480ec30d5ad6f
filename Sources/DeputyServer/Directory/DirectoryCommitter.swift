import DeputyCore

/// The single writer of the directory: applies commands one at a time and publishes each
/// new version, so readers never wait for it.
///
/// The daemon uses the durable store; tests and tools may use ``InMemoryCommitter``.
public protocol DirectoryCommitter: Sendable {
    /// The published directory that readers query.
    var live: LiveDirectory { get }

    /// Applies `command` and returns the core's answer, with the revision it made, once the
    /// change is as durable as this committer makes it. Throws only when the change could not
    /// be made durable (the directory then stays as it was).
    func commit(_ command: Command, context: CommandContext) async throws -> Committed

    /// Writes a snapshot now, where the committer keeps them; returns a sentence for the actor.
    func snapshot() async throws -> String
}

/// What a commit answered.
public struct Committed: Sendable {
    /// The core's answer: the change's summary, or the rule that refused it.
    public let result: Result<CommandResult, DirectoryError>
    /// The directory's revision once the command is applied: the sequence of its record in
    /// the journal (or the shared log), which a refusal has too. A reader that waits for this
    /// revision sees the change (`revision=` on queries, protocol.md).
    public let revision: UInt64

    public init(result: Result<CommandResult, DirectoryError>, revision: UInt64) {
        self.result = result
        self.revision = revision
    }
}

/// Why a committer could not do what was asked.
public struct CommitterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A change the committer could not make now because what makes it durable is out of reach
/// (cluster mode: the database): the request deserves `ERR unavailable`, not a storage
/// error. `outcomeUnknown` says that it may have been made all the same (its commit was in
/// flight when the connection broke); the directory will show it if it was.
public struct CommitUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let outcomeUnknown: Bool

    public init(_ description: String, outcomeUnknown: Bool) {
        self.description = description
        self.outcomeUnknown = outcomeUnknown
    }
}

/// A change the committer could not take back after its write failed partway (the journal's
/// fsync failed, and so did cutting the journal back): it was not applied, and the
/// committer accepts no more changes, but a restart, which reads back what was stored, may
/// show it made.
public struct CommitOutcomeUnknown: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A committer that keeps the directory in memory only, for tests and tools that need no
/// persistence.
public actor InMemoryCommitter: DirectoryCommitter {
    public nonisolated let live: LiveDirectory
    private var directory: Directory

    /// Starts from `directory`.
    public init(_ directory: Directory) {
        self.directory = directory
        self.live = LiveDirectory(directory)
    }

    public func commit(_ command: Command, context: CommandContext) async throws -> Committed {
        let result = directory.apply(command, context: context)
        live.publish(directory)
        return Committed(result: result, revision: directory.revision)
    }

    public func snapshot() async throws -> String {
        throw CommitterError("this directory is kept in memory only; there is nothing to snapshot")
    }
}
