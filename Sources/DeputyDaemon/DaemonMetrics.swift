import DeputyServer
import DeputyStore
import Metrics
import Foundation

/// The store's gauges, read when `/metrics` is scraped.
enum DaemonMetrics {
    static func refresh(store: Store?) async {
        guard let store else { return }
        ServerMetrics.snapshotAge.record(Date().timeIntervalSince(await store.lastSnapshotTime))
        ServerMetrics.storeHealthy.record(await store.isFailed ? 0 : 1)
    }
}
