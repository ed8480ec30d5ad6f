import DeputyServer
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The mail-server listeners: socketmap, tcp_table, policy, Dovecot auth, Dovecot dict and milter,
/// each bound as configured and answering from the shared directory.
///
/// A `Service`: it runs until graceful shutdown, then stops accepting, lets every
/// connection finish the request in hand, and returns. With no listener configured it
/// waits for shutdown without binding anything.
public final class MailAdapterServer: Service, Sendable {
    /// A bound listener, reported once the server listens (port 0 becomes the real port).
    public struct BoundListener: Hashable, Sendable {
        /// What it speaks.
        public let kind: MailAdapterKind
        /// Where it listens.
        public let address: ListenAddress
    }

    private let configuration: MailAdapterConfiguration
    private let environment: MailAdapterEnvironment
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable ([BoundListener]) -> Void
    private let nextConnectionID = Atomic<Int>(1)
    private let authServerIdentity = DovecotAuthServerIdentity()

    /// Creates the server; nothing is bound until ``run()``.
    public init(
        configuration: MailAdapterConfiguration, environment: MailAdapterEnvironment,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        onListening: @escaping @Sendable ([BoundListener]) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.environment = environment
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    typealias Listener = ConnectionListener<Connection>

    private struct BoundSocket: Sendable {
        let listener: Listener
        let configuration: MailAdapterListener
        let connections: ConnectionRegistry
    }

    public func run() async throws {
        try configuration.validate()
        var sockets: [BoundSocket] = []
        do {
            for listener in configuration.listeners {
                let bound = try await Listener.bind(listener.address, group: group, initializer: Self.initializer(idleTimeout: listener.limits.idleTimeout(for: listener.kind)))
                sockets.append(BoundSocket(listener: bound, configuration: listener, connections: ConnectionRegistry()))
            }
        } catch {
            for socket in sockets { await socket.listener.release() }
            throw error
        }
        let bound = sockets.map { BoundListener(kind: $0.configuration.kind, address: $0.listener.address) }
        for listener in bound {
            logger.notice("mail listener ready", metadata: ["listen.kind": "\(listener.kind)", "listen.address": "\(listener.address)"])
        }
        onListening(bound)
        let listening = sockets

        try await withGracefulShutdownHandler {
            if listening.isEmpty {
                // Nothing to serve; stay up like the other services until shutdown.
                try? await gracefulShutdown()
                return
            }
            try await withThrowingDiscardingTaskGroup { group in
                for socket in listening {
                    group.addTask { try await socket.listener.accept { connection in await self.serve(connection, on: socket) } }
                }
            }
        } onGracefulShutdown: {
            for socket in listening {
                socket.listener.close()
                socket.connections.drain(on: socket.listener.socket.channel.eventLoop)
            }
        }
        logger.notice("mail listeners stopped")
    }

    /// Sets up a mail connection: the idle timeout, and the channel as an async stream.
    private static func initializer(idleTimeout: TimeInterval) -> @Sendable (any Channel) -> EventLoopFuture<Connection> {
        let idle = TimeAmount.milliseconds(Int64(idleTimeout * 1000))
        return { channel in
            channel.eventLoop.makeCompletedFuture {
                let handlers = channel.pipeline.syncOperations
                try handlers.addHandler(IdleStateHandler(readTimeout: idle))
                try handlers.addHandler(MailAdapterIdleHandler())
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
    }

    private func serve(_ connection: Connection, on socket: BoundSocket) async {
        let channel = connection.channel
        let id = nextConnectionID.add(1, ordering: .relaxed).oldValue
        let peer = channel.remoteAddress?.ipAddress ?? "local"
        var logger = self.logger
        logger[metadataKey: "conn.id"] = "\(id)"
        logger[metadataKey: "listen.kind"] = "\(socket.configuration.kind)"
        let open = socket.connections.register(channel)
        defer { socket.connections.unregister(channel) }
        guard let open, open <= socket.configuration.limits.maximumConnections else {
            logger.warning("mail connection refused: too many connections")
            // Through executeThenClose even so: an async channel must be finished, not dropped.
            try? await connection.executeThenClose { (_: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) in
                outbound.finish()
            }
            return
        }
        let limits = socket.configuration.limits
        switch socket.configuration.kind {
        case .socketmap:
            await serve(connection, SocketmapConversation(environment: environment, limits: limits, logger: logger), logger: logger)
        case .tcpTable(let map):
            await serve(connection, TCPTableConversation(map: map, environment: environment, limits: limits, logger: logger), logger: logger)
        case .policy:
            // With a milter listener, the milter records delegated sends (once per message).
            let milterRecords = configuration.listeners.contains { if case .milter = $0.kind { true } else { false } }
            let conversation = PolicyConversation(environment: environment, limits: limits, recordsDelegatedSends: !milterRecords, logger: logger)
            await serve(connection, conversation, logger: logger)
        case .dovecotAuth:
            let conversation = DovecotAuthConversation(
                environment: environment, limits: limits, identity: authServerIdentity, connectionID: id, peer: peer, logger: logger
            )
            await serve(connection, conversation, logger: logger)
        case .dovecotDict:
            await serve(connection, DovecotDictConversation(environment: environment, limits: limits, logger: logger), logger: logger)
        case .milter(let unauthenticated):
            await serve(connection, MilterConversation(environment: environment, limits: limits, unauthenticated: unauthenticated, logger: logger), logger: logger)
        }
    }

    private func serve<Conversation: MailAdapterConversation>(_ connection: Connection, _ conversation: Conversation, logger: Logger) async {
        let allocator = connection.channel.allocator
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await Self.converse(conversation, inbound: inbound, outbound: outbound, allocator: allocator, logger: logger)
            }
        } catch {
            logger.debug("mail connection ended", metadata: ["error": "\(error)"])
        }
    }

    private static func converse<Conversation: MailAdapterConversation>(
        _ conversation: Conversation, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, allocator: ByteBufferAllocator, logger: Logger
    ) async throws {
        var conversation = conversation
        var output = allocator.buffer(capacity: 256)
        conversation.opening(into: &output)
        if output.readableBytes > 0 { try await outbound.write(output) }
        var pending = allocator.buffer(capacity: 512)
        for try await chunk in inbound {
            pending.writeImmutableBuffer(chunk)
            output.clear()
            let disposition: MailAdapterDisposition
            do {
                disposition = try await conversation.receive(&pending, into: &output)
            } catch {
                // Replies to the valid requests before the bad one still go out; the rest
                // of the stream can't be trusted.
                logger.warning("mail connection closed on bad input", metadata: ["error.code": "\(error.code)", "error.message": "\(error.message)"])
                if output.readableBytes > 0 { try await outbound.write(output) }
                return
            }
            if output.readableBytes > 0 { try await outbound.write(output) }
            if case .close = disposition { return }
            pending.discardReadBytes()
        }
    }
}
