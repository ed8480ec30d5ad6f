import DeputyProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal protocol client for tests: sends lines, reads raw reply lines up to and
/// including the status line, so tests see exactly what a client would.
final class LineClient: Sendable {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let channel: Channel
    private let lines: LineStream
    /// The greeting line.
    let greeting: String

    private init(channel: Channel, lines: LineStream, greeting: String) {
        self.channel = channel
        self.lines = lines
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
        let lines = LineStream(channel.inbound)
        guard let greeting = try await lines.next() else { throw TestFailure("no greeting") }
        return LineClient(channel: channel, lines: lines, greeting: greeting)
    }

    /// Sends one line and returns the reply's lines, the status line last.
    func send(_ line: String) async throws -> [String] {
        try await write(line + "\n")
        return try await readReply()
    }

    /// Writes raw text.
    func write(_ text: String) async throws {
        try await channel.outbound.write(ByteBuffer(string: text))
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
        channel.outbound.finish()
        try? await channel.channel.close()
    }

    deinit {
        // A NIOAsyncChannel must be finished before it goes away; tests often just drop clients.
        channel.outbound.finish()
        channel.channel.close(promise: nil)
    }
}

/// The inbound lines of a connection, readable from any task.
final class LineStream: @unchecked Sendable {
    // Only one task reads a given client at a time in these tests; the iterator is not shared.
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        iterator = inbound.makeAsyncIterator()
    }

    func next() async throws -> String? {
        guard let buffer = try await iterator.next() else { return nil }
        return String(buffer: buffer)
    }
}
