import Foundation

/// What recovery found in the data directory, and what it repaired.
public struct RecoveryReport: Hashable, Sendable {
    /// The snapshot's sequence, or `nil` when there was no snapshot.
    public var snapshotSequence: UInt64?
    /// When the snapshot was written.
    public var snapshotSavedAt: Date?
    /// Intact records in the journal, those the snapshot already covers included.
    public var journalRecords = 0
    /// Records applied on top of the snapshot.
    public var replayedRecords = 0
    /// The sequence (and directory revision) recovered.
    public var lastSequence: UInt64 = 0
    /// The end of the journal that a crash left incomplete; cut off when recovering, only
    /// reported when checking.
    public var tornTail: TornTail?
    /// Temporary files a crash left behind; removed when recovering, only reported when checking.
    public var temporaryFiles: [String] = []
    /// The last record of a journal that ends before the snapshot does (an older journal
    /// put back by hand, say): the snapshot holds all of it, and records appended after it
    /// would not follow it. Emptied when recovering, only reported when checking.
    public var journalEndsBeforeSnapshot: UInt64?

    /// Sentences for the log: the torn tail and the temporary files.
    public var warnings: [String] {
        var warnings: [String] = []
        if let tornTail {
            warnings.append("the journal's last write was incomplete: \(tornTail.length) byte(s) from byte \(tornTail.offset) (\(tornTail.reason))")
        }
        for file in temporaryFiles { warnings.append("a crash left \(file) behind") }
        if let end = journalEndsBeforeSnapshot, let snapshotSequence {
            warnings.append("the journal ends at record \(end), before the snapshot at \(snapshotSequence), which holds all of it: the journal is emptied")
        }
        return warnings
    }
}
