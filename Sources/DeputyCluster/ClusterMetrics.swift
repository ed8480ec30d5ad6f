import Metrics

/// The cluster's metrics, through swift-metrics (no-ops until the daemon bootstraps a
/// backend).
enum ClusterMetrics {
    /// The last sequence this node applied (its directory's revision).
    static let applied = Gauge(label: "deputy_cluster_applied_sequence")
    /// The head of the log the last time this node looked.
    static let head = Gauge(label: "deputy_cluster_head_sequence")
    /// Seconds between a record's append and its application here, for the last record.
    static let lag = Gauge(label: "deputy_cluster_lag_seconds")
    /// Time from a record's append to its application here, every record.
    static let lagTimer = Timer(label: "deputy_cluster_apply_lag_seconds")
    /// 1 while the applier follows the primary; 0 while this node serves what it has
    /// (stale) and reconnects.
    static let applierConnected = Gauge(label: "deputy_cluster_connected", dimensions: [("link", "apply")])
    /// 1 while the writer holds a connection to the primary; writes are refused while 0.
    static let writerConnected = Gauge(label: "deputy_cluster_connected", dimensions: [("link", "append")])
    /// 1 while the directory served here may be behind the log: not connected, or not
    /// caught up since the last connection.
    static let stale = Gauge(label: "deputy_cluster_stale")
    /// Reloads from a shared snapshot because the log did not continue this node's state.
    static let rebootstraps = Counter(label: "deputy_cluster_rebootstraps_total")
    /// 1 while the applier has stopped at a record it must not apply (newer rules).
    static let halted = Gauge(label: "deputy_cluster_halted")
    /// One append: the time from sending it to its sequences.
    static let appendTime = Timer(label: "deputy_cluster_append_seconds")
    /// Records per append.
    static let batchSize = Recorder(label: "deputy_cluster_batch_records", aggregate: true)
    /// Records applied by one catch-up (one read of the log after a notification or a poll).
    static let catchUpSize = Recorder(label: "deputy_cluster_catchup_records", aggregate: true)
    /// Wake-ups of the applier that did not read the log: the notifications that came since
    /// the last read named no head beyond what this node had applied (an earlier catch-up
    /// read their records), or none came.
    static let skippedWakeups = Counter(label: "deputy_cluster_wakeups_skipped_total")
    /// Writes refused at once because PostgreSQL was unreachable.
    static let refused = Counter(label: "deputy_cluster_writes_refused_total")
    /// Writes whose append's outcome was unknown when they were answered.
    static let indeterminate = Counter(label: "deputy_cluster_writes_indeterminate_total")
    /// Appends whose outcome was unknown, once resolved by request id: made, not made, or
    /// no longer told by the log (retention removed its rows from the append's time on).
    static let resolvedStored = Counter(label: "deputy_cluster_unknown_resolved_total", dimensions: [("outcome", "stored")])
    static let resolvedNotStored = Counter(label: "deputy_cluster_unknown_resolved_total", dimensions: [("outcome", "not_stored")])
    static let resolvedUntold = Counter(label: "deputy_cluster_unknown_resolved_total", dimensions: [("outcome", "untold")])
    /// Shared snapshots uploaded by this node.
    static let snapshotsUploaded = Counter(label: "deputy_cluster_snapshots_uploaded_total")
    /// Configured PostgreSQL servers this node could not reach at its last look for the
    /// primary: a standby it can't reach is one it could not follow after a failover.
    static let unreachableHosts = Gauge(label: "deputy_cluster_hosts_unreachable")
    /// Configured PostgreSQL servers that answered as primaries at this node's last look:
    /// 1 when healthy, 0 while none can be reached, more while a promoted standby's old
    /// primary still runs unfenced.
    static let primaries = Gauge(label: "deputy_cluster_hosts_primary")

    /// Makes every metric above exist from the node's start, the gauges and counters at
    /// zero and the distributions empty, so that an alert on one (`deputy_cluster_halted ==
    /// 1`, a rate of refusals) never reads an absent series as healthy.
    static func reset() {
        lag.record(0)
        halted.record(0)
        unreachableHosts.record(0)
        for counter in [rebootstraps, skippedWakeups, refused, indeterminate, snapshotsUploaded, resolvedStored, resolvedNotStored, resolvedUntold] { counter.increment(by: 0) }
        // Made (and so registered) on first use, which would otherwise be the first record.
        _ = (lagTimer, appendTime, batchSize, catchUpSize)
    }
}
