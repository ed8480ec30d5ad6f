import DeputyProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The daemon's listeners: TLS for everyone, plaintext on loopback for netcat and local
/// mail servers. A `Service`: it runs until graceful shutdown, then stops accepting, lets
/// every connection finish the request in hand, and returns.
public final class DeputyServer: Service, Sendable {
    /// A bound listener, reported once the server listens (port 0 becomes the real port).
    public struct BoundListener: Sendable {
        public let address: ListenAddress
        public let tls: Bool
    }

    private let configuration: ServerConfiguration
    private let environment: SessionEnvironment
    private let tls: NIOSSLContext
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable ([BoundListener]) -> Void
    private let connections = ConnectionRegistry()
    private let nextConnectionID = Atomic<Int>(1)

    /// Creates the server; nothing is bound until ``run()``.
    public init(
        configuration: ServerConfiguration, environment: SessionEnvironment, tls: NIOSSLContext,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        onListening: @escaping @Sendable ([BoundListener]) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.environment = environment
        self.tls = tls
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    typealias Listener = NIOAsyncChannel<(Connection, NIOLoopBound<LineLengthLimit>), Never>

    public func run() async throws {
        try configuration.validate()
        var listeners: [(Listener, Bool)] = []
        listeners.append((try await bind(configuration.listen, tls: true), true))
        if let plain = configuration.plainListen { listeners.append((try await bind(plain, tls: false), false)) }
        if let path = configuration.plainSocket { listeners.append((try await bind(.unix(path: path), tls: false), false)) }
        let bound = listeners.map { listener, tls in
            BoundListener(address: Self.address(of: listener.channel) ?? configuration.listen, tls: tls)
        }
        for listener in bound { logger.notice("listening", metadata: ["listen.address": "\(listener.address)", "listen.tls": "\(listener.tls)"]) }
        onListening(bound)

        let channels = listeners.map { $0.0.channel }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (listener, _) in listeners {
                    group.addTask { try await self.accept(on: listener) }
                }
            }
        } onGracefulShutdown: {
            self.logger.notice("shutting down: no new connections, finishing requests in hand")
            for channel in channels { channel.close(promise: nil) }
            self.connections.drain()
        }
        logger.notice("stopped")
    }

    private static func address(of channel: any Channel) -> ListenAddress? {
        guard let address = channel.localAddress else { return nil }
        if let path = address.pathname { return .unix(path: path) }
        guard let host = address.ipAddress, let port = address.port else { return nil }
        return .tcp(host: host, port: port)
    }

    // MARK: - Binding

    private func bind(_ address: ListenAddress, tls: Bool) async throws -> Listener {
        let limits = configuration.limits
        let sslContext = tls ? self.tls : nil
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that half-closes after its last request (printf ... | nc -N) still gets
            // every reply; and shutdown can stop reading while replies go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<(Connection, NIOLoopBound<LineLengthLimit>)> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let handlers = channel.pipeline.syncOperations
                if let sslContext { try handlers.addHandler(NIOSSLServerHandler(context: sslContext)) }
                try handlers.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(limits.idleTimeout * 1000))))
                let limit = LineLengthLimit(limits.protocolLimits.maximumLineLengthBeforeAuthentication)
                try handlers.addHandler(ByteToMessageHandler(LineFrameDecoder(limit: limit)))
                try handlers.addHandler(IdleTimeoutHandler())
                let connection = try Connection(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: max(2, limits.protocolLimits.maximumPendingRequests)))
                )
                return (connection, NIOLoopBound(limit, eventLoop: channel.eventLoop))
            }
        }
        switch address {
        case .tcp(let host, let port):
            return try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        case .unix(let path):
            let listener: Listener = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            // Local mail servers run as other users of the same group.
            _ = chmod(path, 0o660)
            return listener
        }
    }

    // MARK: - Connections

    private func accept(on listener: Listener) async throws {
        try await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await (connection, limit) in inbound {
                    group.addTask { await self.serve(connection, limit: limit) }
                }
            }
        }
    }

    private func serve(_ connection: Connection, limit: NIOLoopBound<LineLengthLimit>) async {
        let channel = connection.channel
        let id = nextConnectionID.add(1, ordering: .relaxed).oldValue
        let peer = channel.remoteAddress?.ipAddress ?? "local"
        var logger = self.logger
        logger[metadataKey: "conn.id"] = "\(id)"
        logger[metadataKey: "peer"] = "\(peer)"
        let open = connections.register(channel)
        defer { connections.unregister(channel) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var buffer = channel.allocator.buffer(capacity: 512)
                guard let open, open <= configuration.limits.maximumConnections else {
                    logger.warning("connection refused: too many connections")
                    buffer.writeString("ERR limit too many connections\n")
                    try await outbound.write(buffer)
                    return
                }
                var session = Session(environment: environment, peer: peer, logger: logger)
                _ = ReplyEncoder.write(session.greeting, into: &buffer)
                try await outbound.write(buffer)
                do {
                    for try await line in inbound {
                        let wasAuthenticated = session.isAuthenticated
                        let (reply, disposition) = await session.handle(line: line)
                        if !wasAuthenticated, session.isAuthenticated {
                            let longer = configuration.limits.protocolLimits.maximumLineLengthAfterAuthentication
                            channel.eventLoop.execute { limit.value.maximumLineLength = longer }
                        }
                        buffer.clear()
                        _ = ReplyEncoder.write(reply, into: &buffer)
                        try await outbound.write(buffer)
                        if case .close = disposition { return }
                    }
                } catch let error as ProtocolError {
                    // The decoder refuses the stream (a line over the limit): answer, then
                    // close, since the rest of the stream can't be trusted.
                    logger.info("connection closed on a protocol limit", metadata: ["error": "\(error.message)"])
                    buffer.clear()
                    _ = ReplyEncoder.write(ReplyStatus(error), into: &buffer)
                    try await outbound.write(buffer)
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}
