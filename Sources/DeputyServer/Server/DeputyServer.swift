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
    /// The requests of the connections that must wait, run in the server's task group.
    private let waits = SessionWaits()

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

    typealias Listener = ConnectionListener<any Channel>

    public func run() async throws {
        try configuration.validate()
        var addresses: [(ListenAddress, Bool)] = [(configuration.listen, true)]
        if let plain = configuration.plainListen { addresses.append((plain, false)) }
        if let path = configuration.plainSocket { addresses.append((.unix(path: path), false)) }
        var listeners: [(Listener, Bool)] = []
        do {
            for (address, tls) in addresses {
                listeners.append((try await Listener.bind(address, group: group, initializer: initializer(tls: tls)), tls))
            }
        } catch {
            for (listener, _) in listeners { await listener.release() }
            throw error
        }
        let bound = listeners.map { BoundListener(address: $0.0.address, tls: $0.1) }
        for listener in bound { logger.notice("listening", metadata: ["listen.address": "\(listener.address)", "listen.tls": "\(listener.tls)"]) }
        onListening(bound)

        let sockets = listeners.map(\.0)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    // Once every connection of every listener is closed, no more waits come.
                    defer { self.waits.finish() }
                    try await withThrowingDiscardingTaskGroup { accepting in
                        for listener in sockets {
                            // A task per connection that ends when it closes, so that
                            // shutdown waits for every connection to finish the request in hand.
                            accepting.addTask { try await listener.accept { channel in try? await channel.closeFuture.get() } }
                        }
                    }
                }
                // The requests that must wait are children of this group too, so that the
                // server stops only once each has answered.
                for await job in self.waits.jobs {
                    group.addTask { await job() }
                }
            }
        } onGracefulShutdown: {
            self.logger.notice("shutting down: no new connections, finishing requests in hand")
            for listener in sockets { listener.close() }
            // TLS can't close only the input side, so each session is told to stop reading.
            self.connections.drain(on: sockets[0].socket.channel.eventLoop) { $0.pipeline.fireUserInboundEventTriggered(SessionHandler.Drain()) }
        }
        logger.notice("stopped")
    }

    /// Sets up a connection's pipeline: TLS where it is the TLS listener, the idle timeout,
    /// and its session, which splits its lines itself.
    private func initializer(tls: Bool) -> @Sendable (any Channel) -> EventLoopFuture<any Channel> {
        { channel in
            let current = self.live.withLock { $0 }
            let limits = current.limits
            let sslContext = tls ? current.tls : nil
            var environment = self.environment
            environment.limits = limits.protocolLimits
            environment.maximumListing = limits.maximumListing
            let shared = SessionHandler.Shared(
                environment: environment, limits: limits, connections: self.connections, logger: self.logger, waits: self.waits
            )
            return channel.eventLoop.makeCompletedFuture {
                let handlers = channel.pipeline.syncOperations
                if let sslContext { try handlers.addHandler(NIOSSLServerHandler(context: sslContext)) }
                try handlers.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(limits.idleTimeout * 1000))))
                try handlers.addHandler(SessionHandler(
                    shared: shared, tls: sslContext != nil, connectionID: self.nextConnectionID.add(1, ordering: .relaxed).oldValue,
                    peer: channel.remoteAddress?.ipAddress ?? "local"
                ))
                return channel
            }
        }
    }
}
