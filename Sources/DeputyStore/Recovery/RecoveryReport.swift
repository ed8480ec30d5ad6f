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

    /// Sentences for the log: the torn tail and the temporary files.
    public var warnings: [String] {
        var warnings: [String] = []
        if let tornTail {
            warnings.append("the journal's last write was incomplete: \(tornTail.length) byte(s) from byte \(tornTail.offset) (\(tornTail.reason))")
        }
        for file in temporaryFiles { warnings.append("a crash left \(file) behind") }
        return warnings
    }
}
