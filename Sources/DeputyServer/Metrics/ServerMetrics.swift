import Metrics
import Synchronization

/// The daemon's metrics, through swift-metrics: no-ops until `deputyd` bootstraps the
/// Prometheus backend, so the library and its tests pay nothing for them.
///
/// Series with labels are made once per label set and kept, because making one asks the
/// backend's registry under its lock.
public enum ServerMetrics {
    /// Connections accepted and refused at the connection limit, by listener kind.
    static let connectionsAccepted = Counter(label: "deputy_connections_accepted_total")
    static let connectionsRefused = Counter(label: "deputy_connections_refused_total")
    /// Open connections of the line protocol.
    static let connectionsOpen = Gauge(label: "deputy_connections_open")
    /// BIND failures (wrong password, unknown login, locked, blocked) and the lockouts they caused.
    static let bindFailures = Counter(label: "deputy_bind_failures_total")
    static let lockouts = Counter(label: "deputy_lockouts_total")
    /// Seconds since the last snapshot, set before each scrape.
    public static let snapshotAge = Gauge(label: "deputy_snapshot_age_seconds")
    /// The TLS certificate's expiry as Unix time, set at start and on each reload.
    public static let certificateExpiry = Gauge(label: "deputy_tls_certificate_expiry_timestamp_seconds")
    /// 1 while the store accepts changes, 0 after a storage failure.
    public static let storeHealthy = Gauge(label: "deputy_store_healthy")

    private static let lookupSeries = Mutex<[LookupKey: Counter]>([:])

    private struct LookupKey: Hashable {
        let adapter: String
        let result: String
    }

    /// One lookup of a mail adapter: `deputy_adapter_lookups_total{adapter,result}`, where
    /// result is `found`, `notfound`, `refused` or the like.
    package static func adapterLookup(_ adapter: String, result: String) {
        let key = LookupKey(adapter: adapter, result: result)
        let counter = lookupSeries.withLock { series in
            if let found = series[key] { return found }
            let made = Counter(label: "deputy_adapter_lookups_total", dimensions: [("adapter", adapter), ("result", result)])
            series[key] = made
            return made
        }
        counter.increment()
    }
}
