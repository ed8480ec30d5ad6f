import Metrics

/// The store's metrics, through swift-metrics (no-ops until the daemon bootstraps a backend).
enum StoreMetrics {
    /// How long each journal fsync takes: the floor under every acknowledged change.
    static let journalSync = Timer(label: "deputy_journal_fsync_seconds")

    static func recordJournalSync(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        journalSync.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
