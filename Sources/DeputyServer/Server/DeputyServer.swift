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
    /// What a reload can change; each new connection takes what is current, and an open
    /// one keeps what it started with.
    private let live: Mutex<Live>
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
        self.live = Mutex(Live(limits: configuration.limits, tls: tls))
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    struct Live: Sendable {
        var limits: ServerLimits
        var tls: NIOSSLContext
    }

    /// New limits for connections opened from now on (SIGHUP).
    public func update(limits: ServerLimits) {
        live.withLock { $0.limits = limits }
    }

    /// A new certificate and key for handshakes from now on; open connections keep theirs.
    public func update(tls: NIOSSLContext) {
        live.withLock { $0.tls = tls }
    }

    /// The connections open now.
    public var openConnections: Int { connections.count }

    /// A listener yields its connections' channels; each runs its session in a
    /// ``SessionHandler`` on its event loop.
    typealias Listener = NIOAsyncChannel<any Channel, Never>

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
            // TLS can't close only the input side, so each session is told to stop reading.
            self.connections.drain(on: channels[0].eventLoop) { $0.pipeline.fireUserInboundEventTriggered(SessionHandler.Drain()) }
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

    /// Binds `address`; a failure is a ``ListenError`` that names it.
    private func bind(_ address: ListenAddress, tls: Bool) async throws -> Listener {
        do {
            return try await open(address, tls: tls)
        } catch {
            throw ListenError(address, error)
        }
    }

    private func open(_ address: ListenAddress, tls: Bool) async throws -> Listener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A client that half-closes after its last request (printf ... | nc -N) still gets
            // every reply; and shutdown can stop reading while replies go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<any Channel> = { channel in
            let current = self.live.withLock { $0 }
            let limits = current.limits
            let sslContext = tls ? current.tls : nil
            var environment = self.environment
            environment.limits = limits.protocolLimits
            environment.maximumListing = limits.maximumListing
            let shared = SessionHandler.Shared(environment: environment, limits: limits, connections: self.connections, logger: self.logger)
            return channel.eventLoop.makeCompletedFuture {
                let handlers = channel.pipeline.syncOperations
                if let sslContext { try handlers.addHandler(NIOSSLServerHandler(context: sslContext)) }
                try handlers.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(limits.idleTimeout * 1000))))
                let limit = LineLengthLimit(limits.protocolLimits.maximumLineLengthBeforeAuthentication)
                try handlers.addHandler(ByteToMessageHandler(LineFrameDecoder(limit: limit)))
                try handlers.addHandler(SessionHandler(
                    shared: shared, lineLimit: limit, tls: sslContext != nil, connectionID: self.nextConnectionID.add(1, ordering: .relaxed).oldValue,
                    peer: channel.remoteAddress?.ipAddress ?? "local"
                ))
                return channel
            }
        }
        switch address {
        case .tcp(let host, let port):
            // TCP_NODELAY is an IPPROTO_TCP option, and for TCP sockets only: set at the
            // socket level it would be SO_DEBUG, which only root may set.
            return try await bootstrap.childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port, childChannelInitializer: initializer)
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
                // A task per connection that ends when it closes, so that shutdown waits
                // for every connection to finish the request in hand.
                for try await channel in inbound {
                    group.addTask { try? await channel.closeFuture.get() }
                }
            }
        }
    }
}
