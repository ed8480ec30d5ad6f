import DeputyBenchData
import DeputyClient
import DeputyCore
import Foundation

/// A `deputyd` the benchmark starts itself, on a data directory holding the bench dataset,
/// and watches through /proc (CPU time, resident memory).
final class BenchDaemon: Sendable {
    let process: Process
    let port: Int
    /// The plaintext Postfix socketmap listener's port.
    let socketmapPort: Int
    let dataDirectory: String
    /// From starting the process to its first TLS greeting.
    let startup: Duration

    private init(process: Process, port: Int, socketmapPort: Int, dataDirectory: String, startup: Duration) {
        self.process = process
        self.port = port
        self.socketmapPort = socketmapPort
        self.dataDirectory = dataDirectory
        self.startup = startup
    }

    /// Imports `dataset` into `dataDirectory` unless it already holds a snapshot, then starts
    /// `deputyd serve` on a free loopback port and waits (at most a minute) for it to answer.
    static func start(
        deputyd: String, dataDirectory: String, dataset: BenchDataset, passwordHash: PasswordHash, extraArguments: [String] = []
    ) async throws -> BenchDaemon {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: dataDirectory + "/snapshot.json") {
            try fileManager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let importFile = dataDirectory + ".import.json"
            try ImportFile(directory: dataset.contents(passwordHash: passwordHash)).write(to: importFile)
            defer { try? fileManager.removeItem(atPath: importFile) }
            try run(deputyd, ["import", "--data", dataDirectory, "--from", importFile])
        }
        let port = try freePort()
        let socketmapPort = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: deputyd)
        process.arguments = [
            "serve", "--data", dataDirectory, "--listen", "127.0.0.1:\(port)", "--max-connections", "2000",
            "--socketmap", "127.0.0.1:\(socketmapPort)", "--snapshot-every", "1000000", "--log-level", "warning",
        ] + extraArguments
        let started = ContinuousClock.now
        try process.run()
        let daemon = BenchDaemon(process: process, port: port, socketmapPort: socketmapPort, dataDirectory: dataDirectory, startup: .zero)
        let deadline = started + .seconds(60)
        while true {
            guard process.isRunning else { throw BenchFailure("deputyd exited with status \(process.terminationStatus) while starting") }
            if let connection = try? await daemon.connect() {
                await connection.close()
                break
            }
            guard ContinuousClock.now < deadline else {
                daemon.stop()
                throw BenchFailure("deputyd did not answer on port \(port) within a minute")
            }
            // Polling a port that is not listening yet: nothing to wait on but time.
            try await Task.sleep(for: .milliseconds(10))
        }
        return BenchDaemon(process: process, port: port, socketmapPort: socketmapPort, dataDirectory: dataDirectory, startup: ContinuousClock.now - started)
    }

    /// A TLS connection that trusts the daemon's generated certificate.
    func connect() async throws -> DeputyConnection {
        try await DeputyConnection.connect(
            to: .tls(host: "127.0.0.1", port: port),
            configuration: DeputyClientConfiguration(trust: .certificateFile(dataDirectory + "/tls-cert.pem"))
        )
    }

    /// The CPU time (user and system) the daemon has used so far.
    var cpuSeconds: Double {
        get throws { try ProcessStatistics(pid: process.processIdentifier).cpuSeconds }
    }

    /// The daemon's resident memory.
    var residentMebibytes: Double {
        get throws { try ProcessStatistics(pid: process.processIdentifier).residentMebibytes }
    }

    /// Stops the daemon (SIGTERM: it writes a snapshot and exits) and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(executable) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
    }

    /// A loopback port nothing listens on: bound to port 0, read back, released.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchFailure("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw BenchFailure("cannot find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// What /proc says of a process.
struct ProcessStatistics {
    let cpuSeconds: Double
    let residentMebibytes: Double

    init(pid: Int32) throws {
        // Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses.
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { throw BenchFailure("cannot read /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BenchFailure("cannot read /proc/\(pid)/stat")
        }
        cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kibibytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw BenchFailure("cannot read /proc/\(pid)/status") }
        residentMebibytes = kibibytes / 1024
    }
}

/// A benchmark that could not run, with the reason.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
