import DeputyMailAdapters
import ArgumentParser
import DeputyCore
import DeputyDaemon
import DeputyServer
import DeputyStore
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `deputyd serve`: run the daemon.
///
/// Every setting comes from the first of: its flag, its `DEPUTY_*` environment variable,
/// the configuration file (`--config` or `DEPUTY_CONFIG`), its default.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")

    @OptionGroup var settings: SettingOptions
    @Flag(help: "Print the effective configuration, secrets redacted, with where each setting came from; then exit.") var printConfig = false

    func run() async throws {
        // First of all: SIGHUP's default ends the process, and logrotate or systemd may send
        // one while a large directory is still being recovered. Trapped now, it is a reload
        // once the daemon serves, which also reads any change made after the read below.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let processEnvironment = ProcessInfo.processInfo.environment
        let initial = try settings.resolve(environment: processEnvironment)
        if printConfig {
            print(initial.printed(), terminator: "")
            return
        }
        // Before anything touches NIO's shared event loops: the count can be set once only,
        // so it is a restart setting.
        NIOSingletons.groupLoopCountSuggestion = initial.threads
        let levels = LogLevelControl(initial.logLevel)
        DaemonLogging.bootstrap(format: initial.logFormat, levels: levels)
        let logger = Logger(label: "deputyd")
        for name in SettingValues.unknownEnvironmentNames(in: processEnvironment) {
            logger.warning("ignoring an environment variable that names no setting", metadata: ["env": "\(name)"])
        }
        do {
            try await serve(initial, levels: levels, hangups: hangups, logger: logger)
        } catch {
            StartupFailure(error).log(to: logger)
            throw ExitCode.failure
        }
    }

    private func serve(_ initial: DaemonSettings, levels: LogLevelControl, hangups: UnixSignalsSequence, logger: Logger) async throws {
        var options = DeputyDaemon.Options()
        options.logLevels = levels
        options.hangups = hangups
        options.metricsRegistry = MetricsBootstrap.bootstrap()
        let settings = self.settings
        options.reloadSettings = { try settings.resolve(environment: ProcessInfo.processInfo.environment) }
        try await DeputyDaemon.serve(settings: initial, options: options, logger: logger)
    }
}
