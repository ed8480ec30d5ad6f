import DeputyServer
import DeputyStore
import Foundation
import Logging
import Metrics
import NIOSSL
import Prometheus

/// The log backend: one line of text, or one JSON object, per record, at a level a reload
/// can change.
enum DaemonLogging {
    static func bootstrap(format: DaemonSettings.LogFormat, levels: LogLevelControl) {
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler = switch format {
            case .text: OneLineLogHandler(StreamLogHandler.standardError(label: label))
            case .json: JSONLogHandler(label: label)
            }
            return LevelControlledLogHandler(handler, control: levels)
        }
    }
}

/// The Prometheus backend of swift-metrics, and the gauges read at scrape time.
enum MetricsBootstrap {
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Queries take microseconds and changes an fsync: buckets from 25 µs to 5 s.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Sets the gauges that are a matter of the moment: the snapshot's age, the store's health.
}
