import DeputyProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal protocol client for tests: sends lines, reads raw reply lines up to and
/// including the status line, so tests see exactly what a client would.
///
/// The channel lives inside `executeThenClose` in a task of its own; lines come out of it
/// through one stream and writes go into it through another.
final class LineClient: Sendable {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let outgoing: AsyncStream<ByteBuffer>.Continuation
    private let lines: LineStream
    private let pump: Task<Void, Never>
    /// The greeting line.
    let greeting: String

    private init(outgoing: AsyncStream<ByteBuffer>.Continuation, lines: LineStream, pump: Task<Void, Never>, greeting: String) {
        self.outgoing = outgoing
        self.lines = lines
        self.pump = pump
        self.greeting = greeting
    }

    static func connect(port: Int, tls: TLSConfiguration?, serverHostname: String? = nil) async throws -> LineClient {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    return try wrap(channel)
                }
            }
        return try await start(channel)
    }

    static func connect(unixSocket path: String) async throws -> LineClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture { try wrap(channel) }
            }
        return try await start(channel)
    }

    private static func wrap(_ channel: any NIOCore.Channel) throws -> Channel {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 22)))
        return try Channel(wrappingChannelSynchronously: channel)
    }

    private static func start(_ channel: Channel) async throws -> LineClient {
        let (outgoingStream, outgoing) = AsyncStream.makeStream(of: ByteBuffer.self)
        let (incomingStream, incoming) = AsyncThrowingStream.makeStream(of: String.self)
        let pump = Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await buffer in inbound { incoming.yield(String(buffer: buffer)) }
                        }
                        group.addTask {
                            for await buffer in outgoingStream { try await outbound.write(buffer) }
                        }
                        // The server closing, or the test closing: either ends the connection.
                        try await group.next()
                        group.cancelAll()
                    }
                }
                incoming.finish()
            } catch {
                incoming.finish(throwing: error)
            }
        }
        let lines = LineStream(incomingStream)
        guard let greeting = try await lines.next() else { throw TestFailure("no greeting") }
        return LineClient(outgoing: outgoing, lines: lines, pump: pump, greeting: greeting)
    }

    /// Sends one line and returns the reply's lines, the status line last.
    func send(_ line: String) async throws -> [String] {
        try await write(line + "\n")
        return try await readReply()
    }

    /// Writes raw text.
    func write(_ text: String) async throws {
        outgoing.yield(ByteBuffer(string: text))
    }

    /// Reads lines up to and including the next status line.
    func readReply() async throws -> [String] {
        var reply: [String] = []
        while let line = try await lines.next() {
            reply.append(line)
            if !line.hasPrefix("*") { return reply }
        }
        throw TestFailure("connection closed after \(reply)")
    }

    /// The next line, or `nil` at the end of the stream.
    func readLine() async throws -> String? {
        try await lines.next()
    }

    func close() async {
        outgoing.finish()
        await pump.value
    }

    deinit {
        outgoing.finish()
    }
}

/// The inbound lines of a connection, readable from any task.
final class LineStream: @unchecked Sendable {
    // Only one task reads a given client at a time in these tests; the iterator is not shared.
    private var iterator: AsyncThrowingStream<String, any Error>.AsyncIterator

    init(_ lines: AsyncThrowingStream<String, any Error>) {
        iterator = lines.makeAsyncIterator()
    }

    /// The longest a test waits for a line: a server that stalls fails the test, not the run.
    /// After a timeout the stream is over (the cancelled read ends it): the test has failed.
    static let patience = Duration.seconds(120)

    func next() async throws -> String? {
        try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { try await self.iterator.next() }
            group.addTask {
                try await Task.sleep(for: Self.patience)
                throw TestFailure("no line from the server within \(Self.patience)")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
