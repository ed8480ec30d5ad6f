import Foundation
import Testing

/// A short pass of `deputy-bench load` (the long runs are in docs/performance.md), so the
/// load generator keeps working: it starts a daemon on a small dataset, loads it, and
/// reports answers, latencies and the daemon's CPU time as JSON.
@Suite("deputy-bench load, a short pass", .serialized)
struct LoadBenchTests {
    static var bench: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputy-bench").path
    }

    @Test("each workload gets answers and no errors from a daemon the bench starts", arguments: [
        ["--workload", "sendas", "--depth", "8"],
        ["--workload", "writes"],
        ["--workload", "mixed", "--depth", "4"],
        ["--workload", "socketmap", "--depth", "2"],
        ["--workload", "binds"],
        ["--workload", "sendas", "--rate", "400", "--bind-rate", "20"],
    ])
    func workload(_ arguments: [String]) async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-bench-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try await ProcessRunner.run(Self.bench, [
            "load", "--users", "300", "--groups", "20", "--delegations", "600", "--connections", "3", "--seconds", "1",
            "--hash-iterations", "1000", "--json", json,
        ] + arguments)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let answers = try #require(report["answers"] as? Int)
        #expect(answers > 0)
        #expect(report["errors"] as? Int == 0, "\(run.output)")
        let latency = try #require(report["latencyMicroseconds"] as? [String: Double])
        #expect((latency["p50"] ?? 0) > 0 && (latency["p99"] ?? 0) >= (latency["p50"] ?? 0))
        #expect((report["serverCPUSeconds"] as? Double ?? 0) > 0)
        #expect((report["startupSeconds"] as? Double ?? 0) > 0)
        if !arguments.contains("socketmap") {
            #expect((report["sessionsConnectedSeconds"] as? Double ?? 0) > 0, "\(run.output)")
        }
        if arguments.contains("--rate") {
            // 400 a second for one second, whatever the machine's speed.
            #expect((380...420).contains(answers))
            let storm = try #require(report["bindStorm"] as? [String: Double])
            #expect((storm["acceptedPerSecond"] ?? 0) > 0 && storm["refused"] == 0)
        }
    }
}
