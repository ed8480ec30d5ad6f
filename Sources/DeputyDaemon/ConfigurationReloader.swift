import DeputyServer
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP: the TLS certificate and key (new handshakes use the
/// new ones, established connections keep theirs), the limits, the lockout policy and the
/// log level. Settings that need a restart are named in a warning when they changed. A
/// configuration that does not load leaves everything as it was.
///
/// Last in the service group, so the first to stop: it tells systemd, and `/readyz`, that
/// the daemon is stopping.
struct ConfigurationReloader: Service, CustomStringConvertible {
    /// Reads the settings again; `nil` when the daemon is not reloaded (tests).
    let reload: (@Sendable () throws -> DaemonSettings)?
    /// SIGHUP as trapped since the process began, with the hang-ups that came meanwhile;
    /// `nil` traps it here.
    let hangups: UnixSignalsSequence?
    let running: DaemonSettings
    let daemon: DeputyServer
    let throttle: LoginThrottle
    let levels: LogLevelControl?
    let notifier: SystemdNotifier
    /// Told, as the daemon starts to stop, so that `/readyz` says so at once.
    let readiness: ServiceReadiness
    let logger: Logger

    /// ServiceLifecycle logs each service's description at debug level; the settings hold
    /// the initial password, so they are not part of it.
    var description: String { "ConfigurationReloader" }

    func run() async throws {
        if let reload {
            let hangups = if let hangups { hangups } else { await UnixSignalsSequence(trapping: .sighup) }
            await cancelWhenGracefulShutdown {
                for await _ in hangups {
                    self.reload(reload)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        readiness.markStopping()
        DaemonNotifications.send({ try notifier.stopping() }, logger: logger)
    }

    func reload(_ read: @Sendable () throws -> DaemonSettings) {
        DaemonNotifications.send({ try notifier.reloading() }, logger: logger)
        defer { DaemonNotifications.send({ try notifier.ready() }, logger: logger) }
        do {
            let settings = try read()
            // `data` takes effect only on restart: without a `cert`, the certificate is the
            // running data directory's own, never one made in a directory named since.
            var certificateSettings = settings
            certificateSettings.data = running.data
            let tls = try DaemonTLS.load(certificateSettings, logger: logger)
            daemon.update(tls: tls)
            DaemonDescriptors.ensure(server: settings.server.limits, mail: running.mail, threads: running.threads, logger: logger)
            daemon.update(limits: settings.server.limits)
            throttle.update(policy: settings.throttle)
            levels?.current = settings.logLevel
            let unchanged = running.restartSettingsChanged(in: settings)
            if !unchanged.isEmpty {
                logger.warning("these settings changed but take effect only on restart", metadata: [
                    "settings": "\(unchanged.map(\.name).joined(separator: ", "))",
                ])
            }
            logger.notice("configuration reloaded", metadata: ["log.level": "\(settings.logLevel)"])
        } catch {
            logger.error("reload failed; the running configuration is unchanged", metadata: ["error": "\(error)"])
        }
    }
}
