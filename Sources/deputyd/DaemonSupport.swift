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
enum DaemonMetrics {
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
    static func refresh(store: Store?) async {
        guard let store else { return }
        ServerMetrics.snapshotAge.record(Date().timeIntervalSince(await store.lastSnapshotTime))
        ServerMetrics.storeHealthy.record(await store.isFailed ? 0 : 1)
    }
}

/// The TLS context from the settings: the given certificate and key, or the data
/// directory's own, and the client certificate authorities.
enum DaemonTLS {
    static func load(_ settings: DaemonSettings, logger: Logger) throws -> NIOSSLContext {
        let certificate = try DataFiles.certificate(
            dataDirectory: settings.data, certificatePath: settings.certificate, keyPath: settings.key, logger: logger
        )
        var authorities: [NIOSSLCertificate] = []
        if let path = settings.clientCertificateAuthorities {
            authorities = try ServerCertificate.certificates(inPEMFile: path, purpose: "client CA")
            guard !authorities.isEmpty else { throw ConfigurationError("the client CA file \(path) holds no certificate") }
        }
        if let expiry = certificate.expiry { ServerMetrics.certificateExpiry.record(expiry.timeIntervalSince1970) }
        return try NIOSSLContext(configuration: TLSSettings.serverConfiguration(certificate, clientCertificateAuthorities: authorities))
    }
}

/// systemd notifications are a courtesy: a failure is logged, never fatal.
enum DaemonNotifications {
    static func send(_ notification: () throws -> Bool, logger: Logger) {
        do {
            _ = try notification()
        } catch {
            logger.warning("could not notify systemd", metadata: ["error": "\(error)"])
        }
    }
}

/// The open-file limit, raised at start and on reload to what the connection limits need.
enum DaemonDescriptors {
    static func ensure(server: ServerLimits, mail: MailAdapterConfiguration, logger: Logger) {
        let needed = DescriptorLimit.needed(server: server, mail: mail, cores: ProcessInfo.processInfo.activeProcessorCount)
        guard let (before, after) = DescriptorLimit.raise(toward: needed) else {
            logger.warning("could not read the open-file limit")
            return
        }
        if after.soft < needed {
            logger.warning(
                "the open-file limit is below what the connection limits need: past it new connections wait unanswered until one closes; raise it (LimitNOFILE= in the unit, ulimit -n in a shell) or lower max-connections",
                metadata: ["limit.open-files": "\(after)", "limit.needed": "\(needed)"]
            )
        } else if after.soft != before.soft {
            logger.info("raised the open-file limit to what the connection limits need", metadata: [
                "limit.open-files.before": "\(before)", "limit.open-files": "\(after)",
            ])
        }
    }
}
