import Foundation
import Histogram

/// The results of one `deputy-bench load` run, as text for people and JSON for comparing
/// runs.
struct LoadReport: Encodable {
    let workload: String
    let connections: Int
    let depth: Int
    let rate: Int?
    let seconds: Double
    let answers: Int
    let errors: Int
    let answersPerSecond: Double
    /// Latency percentiles and maximum, in microseconds.
    let latencyMicroseconds: [String: Double]
    /// The daemon's CPU time (user and system) over the measurement, when it is known.
    let serverCPUSeconds: Double?
    let serverCPUMicrosecondsPerAnswer: Double?
    let serverResidentMebibytes: Double?
    /// From starting the daemon to its first TLS greeting, when the bench started it.
    let startupSeconds: Double?
    let dataset: [String: Int]
    let machine: [String: String]
    /// From the first TLS connection's start to the last one's `BIND` answered, all
    /// connecting at once, before the measurement: when the workload uses TLS sessions.
    var sessionsConnectedSeconds: Double?
    /// With `--bind-rate`: logins asked and accepted per second, and refused.
    var bindStorm: [String: Double]?
    /// With `--lag-probes`: from a change's `OK` on one node to the answer of another node's
    /// query waiting for its revision, in milliseconds (p50, p99, max, and the samples).
    var replicationLagMilliseconds: [String: Double]?

    init(
        workload: String, connections: Int, depth: Int, rate: Int?, seconds: Double, answers: Int, errors: Int,
        histogram: Histogram<UInt64>, serverCPUSeconds: Double?, serverResidentMebibytes: Double?, startupSeconds: Double?,
        users: Int, groups: Int, delegations: Int
    ) {
        self.workload = workload
        self.connections = connections
        self.depth = depth
        self.rate = rate
        self.seconds = seconds
        self.answers = answers
        self.errors = errors
        answersPerSecond = Double(answers) / seconds
        var latency: [String: Double] = [:]
        for (name, percentile) in [("p50", 50.0), ("p99", 99.0), ("p99.9", 99.9)] {
            latency[name] = Double(histogram.valueAtPercentile(percentile)) / 1_000
        }
        latency["max"] = Double(histogram.max) / 1_000
        latencyMicroseconds = latency
        self.serverCPUSeconds = serverCPUSeconds
        serverCPUMicrosecondsPerAnswer = serverCPUSeconds.map { answers > 0 ? $0 * 1e6 / Double(answers) : 0 }
        self.serverResidentMebibytes = serverResidentMebibytes
        self.startupSeconds = startupSeconds
        dataset = ["users": users, "groups": groups, "delegations": delegations]
        var loads = [Double](repeating: 0, count: 3)
        machine = [
            "cores": "\(ProcessInfo.processInfo.activeProcessorCount)",
            "loadAverage": getloadavg(&loads, 3) > 0 ? format(loads[0]) : "unknown",
            "date": ISO8601DateFormatter().string(from: Date()),
        ]
    }

    var text: String {
        var lines = [
            "\(workload): \(connections) connection(s), depth \(depth)\(rate.map { ", held at \($0)/s" } ?? ""), \(format(seconds, digits: 0)) s measured",
            "answers: \(answers) (\(errors) errors), \(Int(answersPerSecond.rounded())) per second",
            "latency µs: p50 \(format(latencyMicroseconds["p50"]!)), p99 \(format(latencyMicroseconds["p99"]!)), p99.9 \(format(latencyMicroseconds["p99.9"]!)), max \(format(latencyMicroseconds["max"]!))",
        ]
        if let serverCPUSeconds, let perAnswer = serverCPUMicrosecondsPerAnswer {
            lines.append("server CPU: \(format(serverCPUSeconds)) s, \(format(perAnswer)) µs per answer")
        }
        if let serverResidentMebibytes { lines.append("server resident memory: \(format(serverResidentMebibytes)) MiB") }
        if let sessionsConnectedSeconds {
            lines.append("sessions: \(connections) connected over TLS and bound at once in \(format(sessionsConnectedSeconds)) s, before the measurement")
        }
        lines.append("machine: \(machine["cores"]!) cores, load average \(machine["loadAverage"]!)")
        return lines.joined(separator: "\n")
    }

    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
