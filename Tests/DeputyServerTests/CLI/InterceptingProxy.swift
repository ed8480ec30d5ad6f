import DeputyProtocol
import NIOCore
import NIOPosix

/// A plaintext loopback proxy between a client and the test daemon's plaintext listener
/// that runs `hook` on each request line before passing it on, and waits for it: a way to
/// change the directory at an exact point of a client's conversation, without timing.
///
/// Requests are passed on one at a time, each reply whole before the next request.
final class InterceptingProxy: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let port: Int
    private let listener: any Channel
    private let task: Task<Void, any Error>

    private init(port: Int, listener: any Channel, task: Task<Void, any Error>) {
        self.port = port
        self.listener = listener
        self.task = task
    }

    static func start(upstreamPort: Int, hook: @escaping @Sendable (String) async throws -> Void) async throws -> InterceptingProxy {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 22)))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else { throw TestFailure("the proxy has no port") }
        let task = Task {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await serve(connection, upstreamPort: upstreamPort, hook: hook) }
                    }
                }
            }
        }
        return InterceptingProxy(port: port, listener: server.channel, task: task)
    }

    private static func serve(_ connection: Connection, upstreamPort: Int, hook: @Sendable (String) async throws -> Void) async throws {
        let upstream = try await LineClient.connect(port: upstreamPort, tls: nil)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: upstream.greeting + "\n"))
                for try await buffer in inbound {
                    let line = String(buffer: buffer)
                    try await hook(line)
                    let reply = try await upstream.send(line)
                    try await outbound.write(ByteBuffer(string: reply.map { $0 + "\n" }.joined()))
                }
            }
        } catch {
            await upstream.close()
            throw error
        }
        await upstream.close()
    }

    /// Stops listening and waits for the connections to end.
    func stop() async throws {
        try await listener.close()
        try await task.value
    }
}
