import Metrics

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

    /// One lookup of a mail adapter: `deputy_adapter_lookups_total{adapter,result}`.
    package static func adapterLookup(_ lookup: AdapterLookup) {
        lookup.counter.increment()
    }
}

/// The answers a mail adapter counts, one series of `deputy_adapter_lookups_total` each.
///
/// Every series is made once, on first use, and then reached without a lock: a registry
/// lookup under a mutex on every socketmap answer made every thread answering queue on it.
package enum AdapterLookup: Int, CaseIterable, Sendable {
    case socketmapFound, socketmapNotFound
    case tcpTableFound, tcpTableNotFound
    case policyAllowed, policyRefused, policyDeferred
    case dovecotAuthOK, dovecotAuthFail
    case dovecotDictFound, dovecotDictNotFound
    case milterAccept, milterReject, milterDefer

    /// The labels: the adapter, and the result.
    package var labels: (adapter: String, result: String) {
        switch self {
        case .socketmapFound: ("socketmap", "found")
        case .socketmapNotFound: ("socketmap", "notfound")
        case .tcpTableFound: ("tcp_table", "found")
        case .tcpTableNotFound: ("tcp_table", "notfound")
        case .policyAllowed: ("policy", "dunno")
        case .policyRefused: ("policy", "reject")
        case .policyDeferred: ("policy", "defer")
        case .dovecotAuthOK: ("dovecot_auth", "ok")
        case .dovecotAuthFail: ("dovecot_auth", "fail")
        case .dovecotDictFound: ("dovecot_dict", "found")
        case .dovecotDictNotFound: ("dovecot_dict", "notfound")
        case .milterAccept: ("milter", "accept")
        case .milterReject: ("milter", "reject")
        case .milterDefer: ("milter", "defer")
        }
    }

    var counter: Counter { Self.counters[rawValue] }

    /// A static let: made once, thread-safely, by the runtime; indexed by `rawValue`.
    private static let counters = allCases.map { lookup in
        Counter(label: "deputy_adapter_lookups_total", dimensions: [("adapter", lookup.labels.adapter), ("result", lookup.labels.result)])
    }
}
