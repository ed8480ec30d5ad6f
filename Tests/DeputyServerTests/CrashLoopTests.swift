import Foundation
import Glibc
import Testing

/// The real `deputyd`, killed with SIGKILL at random moments while clients write, restarted
/// each time: every change answered `OK` must be there after the restart.
@Suite("Crash loop")
struct CrashLoopTests {
    static var daemon: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deputyd").path
    }

    /// Cycles in this run; `DEPUTY_CRASH_CYCLES` asks for a longer one (docs/storage.md).
    static let cycles = Int(ProcessInfo.processInfo.environment["DEPUTY_CRASH_CYCLES"] ?? "") ?? 50

    @Test("50 SIGKILLs under concurrent writes lose no acknowledged change")
    func crashLoop() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.daemon), "build deputyd first: \(Self.daemon)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-crash-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        let socket = root.appendingPathComponent("deputy.sock").path
        var generator = SystemRandomNumberGenerator()
        var acknowledged: Set<String> = []
        var counter = 0

        for cycle in 0..<Self.cycles {
            let pid = try ProcessRunner.spawnDetached(Self.daemon, [
                "serve", "--data", data, "--listen", "127.0.0.1:0", "--plain-socket", socket, "--snapshot-every", "40",
            ])
            let password = try await Self.waitForPassword(data: data)
            let admin = try await Self.connect(socket)
            #expect(try await admin.send("BIND admin@example.test \(password)") == ["OK bound as admin@example.test"])
            // Everything acknowledged in earlier cycles survived.
            let missing = try await Self.missing(acknowledged, through: admin)
            #expect(missing.isEmpty, "cycle \(cycle): \(missing.count) acknowledged changes lost, e.g. \(missing.sorted().prefix(5))")
            // Three writers pipeline changes; the daemon dies at a random moment.
            let writers = try await (0..<3).asyncMap { _ in try await Self.connect(socket) }
            for writer in writers { _ = try await writer.send("BIND admin@example.test \(password)") }
            let killAfter = Duration.milliseconds(Int.random(in: 20...250, using: &generator))
            let results = await withTaskGroup(of: [String].self) { group in
                for (index, writer) in writers.enumerated() {
                    let names = (0..<200).map { "c\(cycle)-w\(index)-\(counter + $0)" }
                    group.addTask {
                        var acked: [String] = []
                        for name in names {
                            guard let reply = try? await writer.send("ADD GROUP \(name)@example.test") else { break }
                            // Acknowledged: the one status line, with the revision the change made.
                            if reply.count == 1, reply[0].hasPrefix("OK organization group \(name)@example.test added (revision ") { acked.append(name) }
                        }
                        return acked
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: killAfter)
                    kill(pid, SIGKILL)
                    return []
                }
                var all: [String] = []
                for await acked in group { all += acked }
                return all
            }
            counter += 600
            acknowledged.formUnion(results)
            await ProcessRunner.wait(pid)
        }
        #expect(acknowledged.count > Self.cycles, "the writers should have been acknowledged many times")
        // A last start: everything acknowledged is there.
        let pid = try ProcessRunner.spawnDetached(Self.daemon, ["serve", "--data", data, "--listen", "127.0.0.1:0", "--plain-socket", socket])
        let admin = try await Self.connect(socket)
        _ = try await admin.send("BIND admin@example.test \(try await Self.waitForPassword(data: data))")
        let missing = try await Self.missing(acknowledged, through: admin)
        #expect(missing.isEmpty, "after the last crash: \(missing.count) acknowledged changes lost")
        kill(pid, SIGKILL)
        await ProcessRunner.wait(pid)
        // The data passes a full check after the last crash.
        let check = try await ProcessRunner.run(Self.daemon, ["check", "--data", data])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("ok"))
        print("crash loop: \(Self.cycles) cycles, \(acknowledged.count) acknowledged writes checked")
    }

    /// The names among `names` whose groups the directory does not hold, asked in one pipelined run.
    static func missing(_ names: Set<String>, through client: LineClient) async throws -> Set<String> {
        let ordered = Array(names)
        try await client.write(ordered.map { "QUERY ENTRY \($0)@example.test\n" }.joined())
        var missing: Set<String> = []
        for name in ordered {
            let reply = try await client.readReply()
            if reply.last != "OK" { missing.insert(name) }
        }
        return missing
    }

    static func waitForPassword(data: String) async throws -> String {
        try await SecurityDaemon.waitForPassword(data: data)
    }

    /// Connects once the daemon listens, waiting with a bound.
    static func connect(_ socket: String) async throws -> LineClient {
        for _ in 0..<1_000 {
            if let client = try? await LineClient.connect(unixSocket: socket), client.greeting.hasPrefix("OK") { return client }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the daemon did not come up")
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
