import DeputyMailAdapters
import ArgumentParser
import DeputyBenchData
import DeputyCore
import DeputyDaemon
import DeputyServer
import DeputyStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// `deputy-bench socketmap`: `senders` lookups per second through the Postfix socketmap
/// adapter, over persistent plaintext connections on loopback, one lookup in flight per
/// connection as Postfix does.
struct SocketmapBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketmap",
        abstract: "Time socketmap 'senders' lookups against the adapter (started in this process on the bench dataset)."
    )

    @Option(help: "Users in the dataset.") var users = 100_000
    @Option(help: "Groups in the dataset.") var groups = 10_000
    @Option(help: "Delegations in the dataset.") var delegations = 200_000
    @Option(help: "Connections, each with one lookup in flight.") var connections = 1
    @Option(help: "Seconds to run.") var seconds = 5.0

    func run() async throws {
        // The daemon as deputyd runs it (DeputyDaemon.build), in this process, on a data
        // directory holding the dataset.
        let dataset = BenchDataset(users: users, groups: groups, delegations: delegations)
        let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-bench-socketmap-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let importFile = root + "/import.json"
        try ImportFile(directory: dataset.contents(passwordHash: hasher.hash("bench"))).write(to: importFile)
        _ = try Store.importSnapshot(from: importFile, into: root + "/data", dryRun: false)
        let settings = try DaemonSettings(SettingValues(flags: [
            .data: [root + "/data"], .listen: ["127.0.0.1:0"], .socketmap: ["127.0.0.1:0"], .snapshotEvery: ["1000000"],
        ], environment: [:]))
        var options = DeputyDaemon.Options()
        options.hasher = hasher
        options.clock = { dataset.now }
        options.shutdownSignals = []
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        options.onMailListening = { listeners in
            if case .tcp(_, let port)? = listeners.first?.address { continuation.yield(port) }
            continuation.finish()
        }
        var logger = Logger(label: "deputy-bench")
        logger.logLevel = .critical
        let daemon = try await DeputyDaemon.build(settings: settings, options: options, logger: logger)
        let serverTask = Task { try await daemon.run() }
        var boundPort = 0
        for await value in bound { boundPort = value }
        let port = boundPort

        var random = BenchRandom(seed: 11)
        let keys = (0..<4096).map { _ in "senders " + (random.below(2) == 0 ? BenchDataset.user(random.below(users)) : BenchDataset.alias(random.below(users))) }
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for index in 0..<connections {
                tasks.addTask { try await Self.client(port: port, keys: keys, offset: index * 97, until: deadline) }
            }
            var total = 0
            for try await count in tasks { total += count }
            return total
        }
        let elapsed = (ContinuousClock.now - started).seconds
        print("socketmap senders: \(connections) connection(s), \(counts) lookups in \(String(format: "%.2f", elapsed)) s: \(Int(Double(counts) / elapsed)) lookups/s")
        await daemon.triggerGracefulShutdown()
        _ = try? await serverTask.value
    }

    /// One persistent connection: a netstring request, wait for its reply, repeat.
    static func client(port: Int, keys: [String], offset: Int, until deadline: ContinuousClock.Instant) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var pending = ByteBuffer()
            var count = 0
            var index = offset
            while ContinuousClock.now < deadline {
                let key = keys[index & 4095]
                index += 1
                try await outbound.write(ByteBuffer(string: "\(key.utf8.count):\(key),"))
                // Read until one whole netstring reply is buffered.
                while true {
                    if let colon = pending.readableBytesView.firstIndex(of: UInt8(ascii: ":")),
                        let length = Int(String(decoding: pending.readableBytesView[pending.readerIndex..<colon], as: UTF8.self)),
                        pending.readableBytes >= colon - pending.readerIndex + 1 + length + 1 {
                        pending.moveReaderIndex(forwardBy: colon - pending.readerIndex + 1 + length + 1)
                        break
                    }
                    guard var more = try await iterator.next() else { return count }
                    pending.writeBuffer(&more)
                }
                count += 1
            }
            return count
        }
    }
}
