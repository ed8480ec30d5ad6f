import DeputyCluster
import DeputyCore
import DeputyStore
import Foundation
import Logging
import Synchronization
import Testing

/// Commands, directories and running nodes for the cluster tests.
enum ClusterFixture {
    static let start = Date(timeIntervalSince1970: 1_800_000_000.25)
    /// A cheap hasher: tests need valid hashes, not slow ones.
    static let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("correct horse")
    /// Errors only on standard error: failovers make the expected warnings by the dozen.
    /// Every warning and error is also kept in ``warnings``, for tests of what the nodes
    /// tell an operator.
    static let logger = Logger(label: "deputy.cluster.tests") { label in
        var printed = StreamLogHandler.standardError(label: label)
        printed.logLevel = ProcessInfo.processInfo.environment["DEPUTY_CLUSTER_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return MultiplexLogHandler([printed, WarningLines.Handler(lines: warnings)])
    }

    /// The warnings and errors the in-process nodes of this test process logged.
    static let warnings = WarningLines()

    static func address(_ name: String) -> EmailAddress {
        EmailAddress("\(name)@acme.test")!
    }

    static func system(_ step: Int = 0) -> CommandContext {
        CommandContext(actor: .system, time: start.addingTimeInterval(Double(step)))
    }

    /// The organisation acme.test with `boss` as super administrator and administrators
    /// `admin0`, `admin1`, `admin2`: the directory the cluster starts from.
    static func initialDirectory() -> Directory {
        var directory = Directory()
        var step = 0
        func apply(_ command: Command) {
            step += 1
            if case .failure(let error) = directory.apply(command, context: system(step)) {
                Issue.record("setting up: \(command) was refused: \(error)")
            }
        }
        apply(.createOrganization(NewOrganization(name: "Acme", domain: DomainName("acme.test")!, superAdministrator: address("boss"), superAdministratorName: "The Boss", passwordHash: hash)))
        for index in 0..<3 {
            apply(.addUser(NewUser(address: address("admin\(index)"), displayName: "Admin \(index)", passwordHash: hash)))
            apply(.setRole(address("admin\(index)"), .administrator))
        }
        return directory
    }

    /// The principal of the user at `name` in `directory`.
    static func principal(_ name: String, in directory: Directory) -> Principal {
        .user(directory.user(at: address(name))!.id)
    }

    /// Waits until `condition` holds, at most `seconds`; whether it did.
    @discardableResult
    static func waitUntil(seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }
}

/// A PostgreSQL pair with an initialised cluster, and nodes running on it in this process.
final class ClusterHarness: @unchecked Sendable {
    let pair: PostgresPair
    let initial: Directory
    private(set) var nodes: [ClusterNode] = []
    private var tasks: [Task<Void, Never>] = []
    private var dataDirectories: [String] = []

    private init(pair: PostgresPair, initial: Directory) {
        self.pair = pair
        self.initial = initial
    }

    /// Starts the pair, initialises the cluster from ``ClusterFixture/initialDirectory()``,
    /// and starts `nodes` nodes, each with a data directory of its own.
    static func start(
        nodes count: Int, initial: Directory = ClusterFixture.initialDirectory(), configure: (inout ClusterSettings) -> Void = { _ in }
    ) async throws -> ClusterHarness {
        let pair = try await PostgresPair.start()
        let harness = ClusterHarness(pair: pair, initial: initial)
        do {
            _ = try await ClusterSetup.initialize(settings: pair.settings(node: "init"), directory: harness.initial, logger: ClusterFixture.logger)
            for index in 0..<count {
                try await harness.addNode(name: "n\(index + 1)", configure: configure)
            }
        } catch {
            await harness.stop()
            throw error
        }
        return harness
    }

    /// Runs `body` with a harness of `count` nodes, and stops it afterwards, whether `body`
    /// throws or not.
    static func run(nodes count: Int, configure: (inout ClusterSettings) -> Void = { _ in }, _ body: (ClusterHarness) async throws -> Void) async throws {
        let harness = try await start(nodes: count, configure: configure)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// Starts one more node and waits until it follows the log and accepts writes.
    @discardableResult
    func addNode(name: String, dataDirectory: String? = nil, configure: (inout ClusterSettings) -> Void = { _ in }) async throws -> ClusterNode {
        var settings = pair.settings(node: name)
        configure(&settings)
        let directory = dataDirectory ?? "/tmp/deputy-cluster-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        dataDirectories.append(directory)
        let node = try await ClusterNode.open(settings: settings, dataDirectory: directory, logger: Self.logger(of: name))
        nodes.append(node)
        tasks.append(Task { await node.run() })
        let ready = await ClusterFixture.waitUntil {
            let following = await node.applier.isFollowing
            let writing = await node.writer.isConnected
            return following && writing
        }
        guard ready else { throw Shell.Failure(description: "node \(name) did not connect within 30 s") }
        return node
    }

    /// Stops node `index` as the daemon stops it (its local state is saved), and opens it
    /// again on the same data directory, without waiting for the database: a node restarted
    /// while PostgreSQL is unreachable serves what its local state holds.
    func restartNode(_ index: Int) async throws -> ClusterNode {
        await stopNode(index)
        return try await reopenNode(index)
    }

    /// Stops node `index` as the daemon stops it: its local state is saved. A node that has
    /// not stopped within ``stopLimit`` fails the test, which goes on.
    func stopNode(_ index: Int) async {
        tasks[index].cancel()
        await expectEnded(index)
    }

    /// How long a node may take to stop once cancelled: saving its local state takes well
    /// under a second here.
    static let stopLimit = Duration.seconds(30)

    private func expectEnded(_ index: Int) async {
        let ended = await TaskEnding.ended(tasks[index], within: Self.stopLimit)
        #expect(ended, "node \(nodes[index].settings.nodeName) did not stop within \(Self.stopLimit) of its cancellation")
    }

    /// Opens node `index`, stopped by ``stopNode(_:)``, again on its data directory, without
    /// waiting for the database.
    func reopenNode(_ index: Int) async throws -> ClusterNode {
        let node = try await ClusterNode.open(
            settings: nodes[index].settings, dataDirectory: dataDirectories[index], bootstrapTimeout: .seconds(1),
            logger: Self.logger(of: nodes[index].settings.nodeName)
        )
        nodes[index] = node
        tasks[index] = Task { await node.run() }
        return node
    }

    /// The fixture's logger, with the node's name on every line (`node=n2`): the nodes of a
    /// test share one process and one list of warnings.
    static func logger(of node: String) -> Logger {
        var logger = ClusterFixture.logger
        logger[metadataKey: "node"] = .string(node)
        return logger
    }

    /// The head of the log, read on the primary.
    func head() async throws -> Int64 {
        Int64(try await pair.sqlOnPrimary("SELECT seq FROM deputy_head"))!
    }

    /// Waits until every node has applied the head of the log.
    func waitForConvergence(seconds: Double = 60) async throws {
        let head = try await head()
        for node in nodes {
            let caught = await ClusterFixture.waitUntil(seconds: seconds) { await node.applier.appliedSequence >= head }
            let applied = await node.applier.appliedSequence
            #expect(caught, "node \(node.settings.nodeName) at \(applied), head \(head)")
        }
    }

    /// Stops the nodes and the pair and removes their files.
    func stop() async {
        for task in tasks { task.cancel() }
        // Bounded: PostgreSQL goes below in any case, which fails whatever a node that has
        // not stopped still waits for.
        for index in tasks.indices { await expectEnded(index) }
        await pair.destroy()
        for directory in dataDirectories { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Every log row as (sequence, digest, body), read with psql on the primary.
    func logRows() async throws -> [(sequence: Int64, digest: [UInt8], body: [UInt8])] {
        let text = try await pair.sqlOnPrimary("SELECT seq || ' ' || encode(digest, 'hex') || ' ' || encode(body, 'hex') FROM deputy_log ORDER BY seq")
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            return (Int64(fields[0])!, Self.bytes(fields[1]), Self.bytes(fields[2]))
        }
    }

    static func bytes(_ hex: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

/// Warnings and errors as an operator reads them: the message and each metadata value.
final class WarningLines: Sendable {
    private let kept = Mutex<[String]>([])

    /// Every line kept so far, in order.
    var all: [String] { kept.withLock { $0 } }

    struct Handler: LogHandler {
        let lines: WarningLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let line = (fields + [event.message.description]).joined(separator: " ")
            lines.kept.withLock { $0.append(line) }
        }
    }
}
