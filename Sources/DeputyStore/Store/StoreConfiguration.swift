import Foundation

/// When the store writes snapshots, and the clock it reads.
public struct StoreConfiguration: Sendable {
    /// A snapshot is due after this many journal records; 10,000 keeps the journal to a
    /// few megabytes and recovery to well under a second of replay.
    public var snapshotEveryRecords: Int
    /// A snapshot is due after this many seconds when at least one record was journaled.
    public var snapshotEverySeconds: TimeInterval
    /// The clock for record times, snapshot times and the time threshold; tests set it.
    public var now: @Sendable () -> Date

    /// Creates a configuration; the defaults suit production.
    public init(
        snapshotEveryRecords: Int = 10_000, snapshotEverySeconds: TimeInterval = 3_600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.snapshotEveryRecords = snapshotEveryRecords
        self.snapshotEverySeconds = snapshotEverySeconds
        self.now = now
    }
}
