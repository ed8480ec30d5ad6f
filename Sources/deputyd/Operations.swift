import ArgumentParser
import DeputyCluster
import DeputyDaemon
import DeputyServer
import Foundation
import Logging
import NIOCore

/// `deputyd check-config FILE`: validate a configuration file without starting.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file: its JSON, every setting's name and value, and the files it names (TLS, and in cluster mode the PostgreSQL password file and CA); exit 1 on the first error, with its line."
    )
    @Argument(help: "The configuration file.") var file: String

    func run() throws {
        let settings: DaemonSettings
        do {
            let values = SettingValues(flags: [:], environment: [:], file: try ConfigurationFile.load(path: file))
            settings = try DaemonSettings(values)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        // The files it names must load, and make a TLS context, as they would on start: a
        // key of another pair, or a client CA that can't be read, is refused here too. (A
        // self-signed certificate is made on start when none is named: nothing to check.)
        do {
            if settings.certificate != nil, settings.key != nil {
                _ = try DaemonTLS.load(settings, logger: Logger(label: "deputyd"))
            } else {
                _ = try DaemonTLS.clientCertificateAuthorities(settings)
            }
        } catch {
            FileHandle.standardError.write(Data("\(file): cert/key/client-ca: \(error)\n".utf8))
            throw ExitCode(1)
        }
        // In cluster mode, the password file and the certificates that PostgreSQL's must
        // chain to, read as a node reads them.
        if let cluster = settings.cluster {
            do {
                try ClusterSettings(cluster).checkFiles()
            } catch {
                FileHandle.standardError.write(Data("\(file): cluster settings: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        print("\(file): ok")
    }
}

/// `deputyd health`: ask the running daemon's /readyz; exit 0 when ready, 1 when not.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running daemon whether it is ready (GET /readyz on metrics-listen); exit 0 if so, else 1."
    )
    @Option(help: "A JSON configuration file, to find metrics-listen; also DEPUTY_CONFIG.") var config: String?
    @Option(help: "The metrics and health listener, HOST:PORT; overrides the configuration.") var metricsListen: String?
    @Option(help: "Seconds to wait for an answer.") var timeout: Double = 5

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var address: ListenAddress?
        do {
            var file: [Setting: SettingValue] = [:]
            if let path = config ?? environment[ConfigurationFile.environmentName].flatMap({ $0.isEmpty ? nil : $0 }) {
                file = try ConfigurationFile.load(path: path)
            }
            let flags: [Setting: [String]] = metricsListen.map { [.metricsListen: [$0]] } ?? [:]
            address = try DaemonSettings(SettingValues(flags: flags, environment: environment, file: file)).metricsListen
        } catch {
            // Not the daemon's state: this command could not find where to ask (a
            // configuration file this user may not read, most often).
            print("cannot ask the daemon: \(error)")
            throw ExitCode(1)
        }
        guard let address else {
            print("cannot ask the daemon: no metrics-listen is configured, so there is nothing to ask; give --metrics-listen or --config")
            throw ExitCode(1)
        }
        do {
            let answer = try await HealthProbe.get("/readyz", from: address, timeout: .milliseconds(Int64(timeout * 1000)))
            print(answer.body.trimmingCharacters(in: .whitespacesAndNewlines))
            if answer.status != 200 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("unhealthy: no answer from \(address) (\(error))")
            throw ExitCode(1)
        }
    }
}
