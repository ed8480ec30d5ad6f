import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of a PostgreSQL server that can hold the bytes of the
/// connections it carries, one direction at a time, and refuse new ones: a network partition
/// a test can start and heal at exact points. Held bytes, and a close behind them, are kept
/// and passed on in order when released, as a network passes on retransmitted segments once
/// it heals.
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
        /// Reads the client, writes the server.
        let toServer: Forwarder
        /// Reads the server, writes the client.
        let toClient: Forwarder
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
        let box = NIOLockedValueBox<PausableProxy?>(nil)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                guard let proxy = box.withLockedValue({ $0 }), !proxy.refusing.withLockedValue({ $0 }) else {
                    return client.close()
                }
                // Both ends on the client's event loop: each forwarder writes its peer there.
                // The client is registered, and so read, only once this future completes,
                // with its forwarder in place: a client that went away meanwhile ends it.
                return ClientBootstrap(group: client.eventLoop)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMap { server in
                        let toServer = Forwarder(peer: server)
                        let toClient = Forwarder(peer: client)
                        do {
                            try client.pipeline.syncOperations.addHandler(toServer)
                            try server.pipeline.syncOperations.addHandler(toClient)
                        } catch {
                            server.close(promise: nil)
                            return client.eventLoop.makeFailedFuture(error)
                        }
                        proxy.pairs.withLockedValue { $0.append(Pair(client: client, toServer: toServer, toClient: toClient)) }
                        return client.setOption(.autoRead, value: true)
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = listener.localAddress?.port else { throw Shell.Failure(description: "the proxy has no port") }
        let proxy = PausableProxy(port: port, listener: listener)
        box.withLockedValue { $0 = proxy }
        return proxy
    }

    /// Keeps, from now on, what every connection open now sends in `direction`, and its
    /// close; connections made later pass everything (unless ``refuseNew()``).
    func hold(_ direction: Direction) async {
        for pair in pairs.withLockedValue({ $0 }) {
            let forwarder = direction == .toServer ? pair.toServer : pair.toClient
            try? await pair.client.eventLoop.submit { forwarder.hold() }.get()
        }
    }

    /// Passes on everything held, in order, and everything after.
    func release() async {
        for pair in pairs.withLockedValue({ $0 }) {
            try? await pair.client.eventLoop.submit {
                pair.toServer.release()
                pair.toClient.release()
            }.get()
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
            try? await pair.client.eventLoop.submit {
                pair.toServer.release()
                pair.toClient.release()
            }.get()
            try? await pair.client.close().get()
        }
    }
}

/// Writes what one side of a proxied connection reads to the other side, and closes the
/// other side when this one ends; while held, keeps both for ``release()``. Its state is
/// touched only on the event loop both sides share.
private final class Forwarder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let peer: any Channel
    private var holding = false
    private var held: [ByteBuffer] = []
    private var endHeld = false

    init(peer: any Channel) { self.peer = peer }

    func hold() {
        peer.eventLoop.preconditionInEventLoop()
        holding = true
    }

    func release() {
        peer.eventLoop.preconditionInEventLoop()
        guard holding else { return }
        holding = false
        for bytes in held { peer.write(bytes, promise: nil) }
        peer.flush()
        held = []
        if endHeld { peer.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if holding { held.append(bytes) } else { peer.writeAndFlush(bytes, promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if holding { endHeld = true } else { peer.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
