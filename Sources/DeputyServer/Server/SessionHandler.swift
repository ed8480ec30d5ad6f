import DeputyProtocol
import Logging
import Metrics
import NIOCore
import NIOSSL
import NIOTLS

/// Runs one connection's ``Session`` on its event loop.
///
/// Queries, and everything else that needs no waiting, are answered right where their line
/// is decoded; their replies collect in one buffer that is flushed when the read is done,
/// so a pipelined batch costs one TLS record and one system call, and a single request no
/// hop to another thread. A request that must wait (BIND hashes a password, a change waits
/// for the journal) runs in a task; lines that arrive meanwhile queue behind it, in order,
/// and reading stops while the queue is at the pending-request limit or while the client
/// is not reading its replies.
final class SessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Fired into each connection's pipeline when the server shuts down: finish the request
    /// in hand and what was read behind it, read no more, and close.
    struct Drain {}

    /// What the handler shares with its server.
    struct Shared: Sendable {
        let environment: SessionEnvironment
        let limits: ServerLimits
        let connections: ConnectionRegistry
        let logger: Logger
    }

    private let shared: Shared
    /// The decoder's line limit, raised once the session is bound.
    private let lineLimit: LineLengthLimit
    // Touched only on the connection's event loop, so the run-time exclusivity checks
    // Swift makes on every access to a class's properties (a measurable part of each
    // query) are left out for the two used per request.
    @exclusivity(unchecked) private var session: Session
    private var logger: Logger
    @exclusivity(unchecked) private var replies: ByteBuffer
    private var queued = CircularBuffer<ByteBuffer>()
    /// A request is running in a task; lines wait in `queued`.
    private var waiting = false
    /// The client has ended its input (or the server is draining): close once answered.
    private var inputEnded = false
    private var closing = false
    private var registered = false
    /// A read was asked for and held back.
    private var readHeld = false
    /// The stream broke a limit while a request was waiting: answered after the queue.
    private var failure: ProtocolError?
    /// The server is shutting down: nothing more is read.
    private var draining = false
    /// Whether anything can be written yet: not before a TLS handshake has completed.
    private var canWrite: Bool

    init(shared: Shared, lineLimit: LineLengthLimit, tls: Bool, connectionID: Int, peer: String) {
        self.shared = shared
        self.lineLimit = lineLimit
        self.canWrite = !tls
        var logger = shared.logger
        logger[metadataKey: "conn.id"] = "\(connectionID)"
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        self.session = Session(environment: shared.environment, peer: peer, logger: logger)
        self.replies = ByteBuffer()
    }

    // MARK: - Opening and closing

    func channelActive(context: ChannelHandlerContext) {
        replies = context.channel.allocator.buffer(capacity: 1_024)
        guard let open = shared.connections.register(context.channel) else {
            // The server is draining: no greeting, no session.
            context.close(promise: nil)
            return
        }
        registered = true
        ServerMetrics.connectionsOpen.record(open)
        guard open <= shared.limits.maximumConnections else {
            ServerMetrics.connectionsRefused.increment()
            logger.warning("connection refused: too many connections")
            _ = ReplyEncoder.write(.error(code: .limit, text: "too many connections"), into: &replies)
            closeAfterReplies(context)
            return
        }
        ServerMetrics.connectionsAccepted.increment()
        _ = ReplyEncoder.write(session.greeting, into: &replies)
        flushReplies(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered {
            shared.connections.unregister(context.channel)
            ServerMetrics.connectionsOpen.record(shared.connections.count)
        }
        registered = false
        closing = true
        queued.removeAll()
        context.fireChannelInactive()
    }

    // MARK: - Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard !closing else { return }
        if waiting {
            queued.append(line)
        } else {
            answer(line, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushReplies(context)
        context.fireChannelReadComplete()
    }

    private func answer(_ line: ByteBuffer, context: ChannelHandlerContext) {
        switch session.answerWithoutWaiting(line: line) {
        case .answered(let reply, let disposition):
            _ = ReplyEncoder.write(reply, into: &replies)
            if case .close = disposition { closeAfterReplies(context) }
        case .mustWait(let request):
            // The replies before it leave now: they do not wait for a password hash.
            flushReplies(context)
            waiting = true
            let session = self.session
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            Task {
                var running = session
                let (reply, disposition) = await running.handle(request)
                let finished = running
                handler.eventLoop.execute {
                    let (handler, context) = handler.value
                    handler.resume(after: reply, disposition, session: finished, context: context)
                }
            }
        }
    }

    /// Back on the event loop after a request that waited: answer it, then the lines that
    /// queued behind it.
    private func resume(after reply: Reply, _ disposition: Session.Disposition, session: Session, context: ChannelHandlerContext) {
        waiting = false
        guard !closing else { return }
        let wasAuthenticated = self.session.isAuthenticated
        self.session = session
        if !wasAuthenticated, session.isAuthenticated {
            lineLimit.maximumLineLength = shared.environment.limits.maximumLineLengthAfterAuthentication
        }
        _ = ReplyEncoder.write(reply, into: &replies)
        if case .close = disposition { return closeAfterReplies(context) }
        while !waiting, !closing, let line = queued.popFirst() {
            answer(line, context: context)
        }
        guard !closing else { return }
        if !waiting, let failure {
            _ = ReplyEncoder.write(ReplyStatus(failure), into: &replies)
            return closeAfterReplies(context)
        }
        flushReplies(context)
        if !waiting, inputEnded, queued.isEmpty { return closeAfterReplies(context) }
        releaseHeldRead(context)
    }

    // MARK: - Reading and writing

    func read(context: ChannelHandlerContext) {
        if mustHoldReads(context) {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        releaseHeldRead(context)
        context.fireChannelWritabilityChanged()
    }

    /// Reading waits while the queue is full or the client leaves its replies unread.
    private func mustHoldReads(_ context: ChannelHandlerContext) -> Bool {
        draining || (waiting && queued.count >= shared.environment.limits.maximumPendingRequests) || !context.channel.isWritable
    }

    private func releaseHeldRead(_ context: ChannelHandlerContext) {
        guard readHeld, !mustHoldReads(context) else { return }
        readHeld = false
        context.read()
    }

    private func flushReplies(_ context: ChannelHandlerContext) {
        guard replies.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        replies = context.channel.allocator.buffer(capacity: 1_024)
    }

    /// Writes what is pending, then closes once it is written.
    private func closeAfterReplies(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        queued.removeAll()
        context.writeThenClose(wrapOutboundOut(replies))
        replies = context.channel.allocator.buffer(capacity: 0)
    }

    // MARK: - Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            // The client half-closed: answer what was sent, then close.
            endInput(context)
        case is Drain:
            draining = true
            endInput(context)
        case let event as IdleStateHandler.IdleStateEvent where event == .read:
            // Silent for the idle timeout: a last line, then the end.
            guard canWrite else { return context.close(promise: nil) }
            _ = ReplyEncoder.write(.error(code: .limit, text: "idle timeout"), into: &replies)
            closeAfterReplies(context)
        case let event as TLSUserEvent:
            if case .handshakeCompleted = event {
                canWrite = true
                if let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self), let certificate = tls.peerCertificate {
                    // Only a certificate that chains to a trusted client authority gets this
                    // far; without `--client-ca` none is asked for.
                    session.certificateName = ClientCertificateName.of(certificate)
                }
            }
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// No more requests will come: close once those read are answered. A TLS connection
    /// still in its handshake has nothing to answer and can't be written to: it closes now.
    private func endInput(_ context: ChannelHandlerContext) {
        inputEnded = true
        guard canWrite else { return context.close(promise: nil) }
        if !waiting, queued.isEmpty { closeAfterReplies(context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            // The decoder refuses the stream (a line over the limit): answer, then close,
            // since the rest of the stream can't be trusted. Lines decoded before it are
            // answered first.
            logger.info("connection closed on a protocol limit", metadata: ["error": "\(error.message)"])
            if waiting {
                failure = error
                return
            }
            _ = ReplyEncoder.write(ReplyStatus(error), into: &replies)
            closeAfterReplies(context)
            return
        }
        logger.debug("connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
