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

    private static let requestSeries = Mutex<[RequestKey: RequestSeries]>([:])
    private static let lookupSeries = Mutex<[LookupKey: Counter]>([:])

    /// A verb and its result: the labels of one request series.
    struct RequestKey: Hashable, Sendable {
        let verb: String
        let result: String
    }

    /// `deputy_requests_total{verb,result}` and `deputy_request_duration_seconds{verb}`
    /// (a histogram) for one key.
    struct RequestSeries: Sendable {
        let counter: Counter
        let timer: Timer

        func record(nanoseconds: Int64) {
            counter.increment()
            timer.recordNanoseconds(nanoseconds)
        }
    }

    private struct LookupKey: Hashable {
        let adapter: String
        let result: String
    }

    /// The series of one request key, made on first use. Sessions keep what they get, so
    /// the shared table's lock is taken once per key and connection, not per request.
    static func requestSeries(_ key: RequestKey) -> RequestSeries {
        requestSeries.withLock { series in
            if let found = series[key] { return found }
            let made = RequestSeries(
                counter: Counter(label: "deputy_requests_total", dimensions: [("verb", key.verb), ("result", key.result)]),
                timer: Timer(label: "deputy_request_duration_seconds", dimensions: [("verb", key.verb)])
            )
            series[key] = made
            return made
        }
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
