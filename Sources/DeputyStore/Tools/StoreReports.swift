import Foundation

/// What ``Store/check(path:fileSystem:)`` found, without changing anything.
public struct StoreCheckReport: Sendable {
    /// What recovery would find; `nil` when it could not get that far.
    public var recovery: RecoveryReport?
    /// The size of the journal in bytes.
    public var journalBytes = 0
    /// The recovered directory's size.
    public var counts: DirectoryCounts?
    /// Invariants the recovered directory breaks; the daemon would refuse to start.
    public var consistencyProblems: [String] = []
    /// Everything that would stop the daemon from starting: permissions, a snapshot that
    /// does not parse, a damaged journal.
    public var problems: [String] = []
    /// The process that held the data directory's lock (a running daemon) when the check
    /// began; `nil` when none did.
    public var inUseBy: DataDirectoryLock.Holder?

    /// Whether the daemon would start from this data directory.
    public var isHealthy: Bool { problems.isEmpty && consistencyProblems.isEmpty }

    /// Sentences that recovery would repair by itself: a torn tail, temporary files.
    public var warnings: [String] { recovery?.warnings ?? [] }
}

/// What an export wrote.
public struct ExportReport: Hashable, Sendable {
    /// The file written.
    public let path: String
    /// The journal sequence (directory revision) exported.
    public let sequence: UInt64
    /// The file's size in bytes.
    public let bytes: Int
    /// The exported directory's size.
    public let counts: DirectoryCounts
}

/// What an import found, and whether it wrote anything.
public struct ImportReport: Hashable, Sendable {
    /// The revision of the imported directory, which becomes the snapshot's sequence.
    public let sequence: UInt64
    /// The imported directory's size.
    public let counts: DirectoryCounts
    /// Whether this was a dry run that only validated.
    public let dryRun: Bool
}
