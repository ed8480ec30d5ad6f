import NIOCore
import NIOPosix

/// A raw client for the mail-server listeners: writes bytes, reads until a condition holds,
/// within a time bound.
final class ByteClient: @unchecked Sendable {
    // One test task uses a client at a time; the iterator is not shared between tasks.
    private let channel: any Channel
    private var iterator: AsyncStream<[UInt8]>.AsyncIterator
    /// Bytes received and not yet taken by a read.
    private var received: [UInt8] = []
    private var closed = false

    private init(channel: any Channel, stream: AsyncStream<[UInt8]>) {
        self.channel = channel
        self.iterator = stream.makeAsyncIterator()
    }

    static func connect(port: Int) async throws -> ByteClient {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(Collector(continuation)) }
            .connect(host: "127.0.0.1", port: port).get()
        return ByteClient(channel: channel, stream: stream)
    }

    static func connect(unixSocket path: String) async throws -> ByteClient {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { $0.pipeline.addHandler(Collector(continuation)) }
            .connect(unixDomainSocketPath: path).get()
        return ByteClient(channel: channel, stream: stream)
    }

    func write(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Reads until `done` holds for the bytes received, or the connection closes, for at
    /// most `seconds`; returns and consumes everything received.
    func read(for seconds: Double = 10, until done: ([UInt8]) -> Bool) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !done(received), !closed {
            // The bound: the connection closes at the deadline, which ends the stream.
            let channel = self.channel
            let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { channel.close(promise: nil) }
            let chunk = await iterator.next()
            timer.cancel()
            guard let chunk else {
                if ContinuousClock.now >= deadline {
                    throw TestFailure("timed out; received \(String(decoding: received, as: UTF8.self).debugDescription)")
                }
                closed = true
                break
            }
            received += chunk
        }
        defer { received = [] }
        return received
    }

    /// Reads until the text received ends with `suffix` (or the connection closes).
    func readText(endingWith suffix: String, for seconds: Double = 10) async throws -> String {
        let bytes = try await read(for: seconds) { String(decoding: $0, as: UTF8.self).hasSuffix(suffix) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads until the server closes the connection, returning what it sent before.
    func readToClose(for seconds: Double = 10) async throws -> String {
        let bytes = try await read(for: seconds) { _ in false }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the connection was seen closed by the server.
    var isClosed: Bool { closed }

    func close() async {
        try? await channel.close()
    }

    deinit {
        channel.close(promise: nil)
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<[UInt8]>.Continuation

        init(_ continuation: AsyncStream<[UInt8]>.Continuation) { self.continuation = continuation }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(Array(unwrapInboundIn(data).readableBytesView))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }
    }
}
