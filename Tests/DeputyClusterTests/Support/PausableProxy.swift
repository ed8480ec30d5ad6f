import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of a PostgreSQL server that can hold the bytes of the
/// connections it carries, one direction at a time, and refuse new ones: a network partition
/// a test can start and heal at exact points. Held bytes stay in the kernel's socket buffers
/// (the proxy stops reading them) and are passed on, in order, when released, as a network
/// passes on retransmitted segments once it heals.
final class PausableProxy: Sendable {
    /// Which way a hold stops bytes.
    enum Direction: Sendable {
        /// From the client (a node) to the server: the server has not seen what the client
        /// sent.
        case toServer
        /// From the server to the client: the server did the work, the client never hears.
        case toClient
    }

    private struct Pair {
        let client: any Channel
        let server: any Channel
    }

    let port: Int
    private let listener: any Channel
    private let pairs = NIOLockedValueBox<[Pair]>([])
    private let refusing = NIOLockedValueBox(false)

    private init(port: Int, listener: any Channel) {
        self.port = port
        self.listener = listener
    }

    /// A proxy on a free loopback port, passing each connection on to `upstreamPort`.
    static func start(upstreamPort: Int) async throws -> PausableProxy {
        let group = MultiThreadedEventLoopGroup.singleton
        let box = NIOLockedValueBox<PausableProxy?>(nil)
        let listener = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                guard let proxy = box.withLockedValue({ $0 }), !proxy.refusing.withLockedValue({ $0 }) else {
                    return client.close()
                }
                return ClientBootstrap(group: client.eventLoop)
                    .channelOption(.autoRead, value: false)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMap { server in
                        proxy.pairs.withLockedValue { $0.append(Pair(client: client, server: server)) }
                        return client.pipeline.addHandler(Forwarder(peer: server)).flatMap {
                            server.pipeline.addHandler(Forwarder(peer: client))
                        }.flatMap {
                            client.setOption(.autoRead, value: true).and(server.setOption(.autoRead, value: true)).map { _ in }
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = listener.localAddress?.port else { throw Shell.Failure(description: "the proxy has no port") }
        let proxy = PausableProxy(port: port, listener: listener)
        box.withLockedValue { $0 = proxy }
        return proxy
    }

    /// Stops passing on, in `direction`, the bytes of every connection open now; connections
    /// made later pass everything (unless ``refuseNew()``). Returns once no more is read.
    /// Throws nothing: a connection closed already holds nothing.
    func hold(_ direction: Direction) async {
        for pair in pairs.withLockedValue({ $0 }) {
            let source = direction == .toServer ? pair.client : pair.server
            // A connection closed already holds nothing.
            try? await source.setOption(.autoRead, value: false).get()
        }
    }

    /// Passes on everything held, in order, and everything after.
    func release() async {
        for pair in pairs.withLockedValue({ $0 }) {
            // A connection closed meanwhile has nothing left to pass on.
            try? await pair.client.setOption(.autoRead, value: true).get()
            try? await pair.server.setOption(.autoRead, value: true).get()
        }
    }

    /// Closes every new connection at once, as an unreachable server would fail it.
    func refuseNew() { refusing.withLockedValue { $0 = true } }

    /// Carries new connections again.
    func acceptNew() { refusing.withLockedValue { $0 = false } }

    /// Closes the listener and every connection.
    func stop() async {
        try? await listener.close().get()
        for pair in pairs.withLockedValue({ $0 }) {
            try? await pair.client.close().get()
            try? await pair.server.close().get()
        }
    }
}

/// Writes what one side of a proxied connection reads to the other side, and closes the
/// other side when this one ends.
private final class Forwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let peer: any Channel

    init(peer: any Channel) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
