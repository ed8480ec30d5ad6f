import DeputyProtocol
import Logging
import Metrics
import NIOCore
import NIOSSL
import NIOTLS

/// Runs one connection's ``Session`` on its event loop, doing what its
/// ``ConnectionStateMachine`` decides.
///
/// The handler splits the bytes it reads into lines itself, in one loop over each read,
/// rather than behind a `ByteToMessageHandler`: that handler passes each line down the
/// pipeline on its own, boxed and unboxed, which cost about a tenth of a query's answer.
/// Queries, and everything else that needs no waiting, are answered right where their line
/// is decoded; their replies collect in one buffer that is flushed when the read is done,
/// so a pipelined batch costs one TLS record and one system call, and a single request no
/// hop to another thread. A request that must wait (BIND hashes a password, a change waits
/// for the journal) runs in a task the server owns; lines that arrive meanwhile queue
/// behind it, in order, and reading stops while the queue is at the pending-request limit
/// or while the client is not reading its replies.
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
        /// Runs a request that must wait, in a task the server owns.
        let waits: SessionWaits
    }

    private let shared: Shared
    /// Splits the bytes read into lines; its limit is raised once the session is bound.
    @exclusivity(unchecked) private var decoder: LineFrameDecoder
    /// Bytes read and not yet split into lines: at most part of one line between reads,
    /// unless the input is held behind a BIND (``inputHeld``).
    @exclusivity(unchecked) private var unread = SessionHandler.noBytes
    /// An empty buffer, made once: ``unread`` between reads.
    private static let noBytes = ByteBuffer()
    /// Lines are being taken from ``unread``: a read that arrives meanwhile (a handler
    /// before this one delivering on a re-entrant call) only adds its bytes.
    private var splitting = false
    /// A line broke the limit: nothing after it is decoded.
    private var refusedStream = false
    /// The input is held unsplit in ``unread`` until the BIND waiting before it is answered,
    /// since the lines behind it are read with the limit its answer sets.
    private var inputHeld = false
    /// The client half-closed while its input was held: taken once the held lines are answered.
    private var inputClosedWhileHeld = false
    /// When the read being answered arrived (the monotonic clock in nanoseconds): its
    /// lines' latency counts from here, with one clock read for all of them.
    private var receivedAt: UInt64 = 0
    /// The lines of the read being answered; kept for its memory.
    @exclusivity(unchecked) private var lines: [ByteBuffer] = []
    // Touched only on the connection's event loop, so the run-time exclusivity checks
    // Swift makes on every access to a class's properties (a measurable part of each
    // query) are left out for the three used per request.
    @exclusivity(unchecked) private var session: Session
    @exclusivity(unchecked) private var replies: ByteBuffer
    @exclusivity(unchecked) private var machine: ConnectionStateMachine
    private var logger: Logger
    private var registered = false

    init(shared: Shared, tls: Bool, connectionID: Int, peer: String) {
        self.shared = shared
        self.decoder = LineFrameDecoder(maximumLineLength: shared.environment.limits.maximumLineLengthBeforeAuthentication)
        self.machine = ConnectionStateMachine(tls: tls, maximumPending: shared.environment.limits.maximumPendingRequests)
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
            perform(machine.closeAfterReplies(), context: context)
            return
        }
        ServerMetrics.connectionsAccepted.increment()
        _ = ReplyEncoder.write(session.greeting, into: &replies)
        flushReplies(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A final line without its end is not a request (see ``LineFrameDecoder``).
        unread.moveReaderIndex(to: unread.writerIndex)
        // Requests answered whose replies could not leave still count.
        session.countAnswered()
        // A listing it left waiting is not answered.
        session.connectionClosed.set()
        if registered {
            shared.connections.unregister(context.channel)
            ServerMetrics.connectionsOpen.record(shared.connections.count)
        }
        registered = false
        machine.channelInactive()
        context.fireChannelInactive()
    }

    // MARK: - Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !refusedStream else { return }
        if unread.readableBytes == 0 {
            // The usual case, whole lines in each read: the lines are slices of the read.
            unread = bytes
        } else {
            // Part of a line is left: the read continues it, appended in place (the buffer
            // grows by doubling, so a line sent a byte at a time costs its length, not its
            // square). The bytes already split off go first once they outweigh the rest.
            if unread.readerIndex > unread.readableBytes { unread.discardReadBytes() }
            unread.writeBuffer(&bytes)
        }
        guard !splitting, !inputHeld else { return }
        receivedAt = NIODeadline.now().uptimeNanoseconds
        splitLines(context: context)
    }

    /// Splits the unread bytes into lines and answers them.
    private func splitLines(context: ChannelHandlerContext) {
        splitting = true
        defer { splitting = false }
        // Every line the bytes hold first, so that their queries' lookups are announced
        // together (``Session/prefetchQueries(_:)``); then each is answered in turn. A read
        // that arrives while they are answered adds its lines after them.
        var refusal: (any Error)?
        repeat {
            lines.removeAll(keepingCapacity: true)
            // Before a successful BIND, one line at a time: a line behind a BIND still being
            // checked is held unsplit, with the rest of the input, until the BIND's answer
            // sets the limit it is read with (protocol.md: 65,536 bytes after BIND).
            let oneAtATime = !session.isAuthenticated
            do {
                while let line = try decoder.decode(buffer: &unread) {
                    lines.append(line)
                    if oneAtATime { break }
                }
            } catch {
                refusedStream = true
                unread.moveReaderIndex(to: unread.writerIndex)
                refusal = error
            }
            if lines.count > 1, machine.phase == .ready { session.prefetchQueries(lines) }
            for line in lines { perform(machine.lineDecoded(line), context: context) }
            if oneAtATime, machine.phase == .waiting, !session.isAuthenticated {
                inputHeld = true
                machine.holdInput()
                break
            }
        } while !lines.isEmpty && !refusedStream
        lines.removeAll(keepingCapacity: true)
        // Nothing of the read is left to split: let go of its memory, which the channel's
        // receive allocator can then give to the next read.
        if unread.readableBytes == 0 { unread = Self.noBytes }
        if let refusal { refuse(refusal, context: context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushReplies(context)
        context.fireChannelReadComplete()
    }

    /// Answers one line from the session, or starts the wait it needs.
    private func answer(_ line: ByteBuffer, context: ChannelHandlerContext) {
        switch session.answerWithoutWaiting(line: line, receivedAt: receivedAt) {
        case .answered(let reply, let disposition):
            _ = ReplyEncoder.write(reply, into: &replies)
            perform(machine.answered(close: disposition == .close), context: context)
        case .mustWait(let request):
            guard machine.requestMustWait() == .flushAndStartWait else { return }
            // The replies before it leave now: they do not wait for a password hash.
            flushReplies(context)
            let session = self.session
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            shared.waits.run {
                let result = await session.wait(for: request)
                handler.eventLoop.execute {
                    let (handler, context) = handler.value
                    handler.finished(request, result, context: context)
                }
            }
        }
    }

    /// Back on the event loop after a request that waited: take in what it changed, answer
    /// it, then the lines that queued behind it.
    private func finished(_ request: Request, _ result: Session.WaitResult, context: ChannelHandlerContext) {
        let action = machine.waitFinished(close: result.disposition == .close)
        guard action != .none else { return }
        let wasAuthenticated = session.isAuthenticated
        session.finish(request, result)
        if !wasAuthenticated, session.isAuthenticated {
            decoder.maximumLineLength = shared.environment.limits.maximumLineLengthAfterAuthentication
        }
        _ = ReplyEncoder.write(result.reply, into: &replies)
        if inputHeld, case .answerQueue = action {
            // The input held behind the request, split now with the limit its answer set,
            // before the queue is taken (nothing is queued while the input is held) and
            // before a drain or the input's end closes the connection.
            inputHeld = false
            receivedAt = NIODeadline.now().uptimeNanoseconds
            splitLines(context: context)
        }
        perform(action, context: context)
        if !inputHeld, inputClosedWhileHeld {
            inputClosedWhileHeld = false
            takeInputClosed(context: context)
        }
    }

    // MARK: - Reading and writing

    func read(context: ChannelHandlerContext) {
        perform(machine.readRequested(writable: context.channel.isWritable), context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(machine.writabilityChanged(writable: context.channel.isWritable), context: context)
        context.fireChannelWritabilityChanged()
    }

    /// Does what the state machine decided.
    private func perform(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .answer(let line):
            answer(line, context: context)
        case .read:
            flushReplies(context)
            context.read()
        case .flush:
            flushReplies(context)
        case .flushAndStartWait:
            flushReplies(context)
        case .answerQueue:
            // The queued lines waited behind a request that waited: their time counts from now.
            receivedAt = NIODeadline.now().uptimeNanoseconds
            while let line = machine.nextQueuedLine() {
                answer(line, context: context)
            }
            flushReplies(context)
            perform(machine.queueAnswered(writable: context.channel.isWritable), context: context)
        case .closeAfterReplies:
            session.countAnswered()
            context.writeThenClose(wrapOutboundOut(replies))
            replies = context.channel.allocator.buffer(capacity: 0)
        case .close:
            context.close(promise: nil)
        case .failAndClose(let error):
            _ = ReplyEncoder.write(ReplyStatus(error), into: &replies)
            session.countAnswered()
            context.writeThenClose(wrapOutboundOut(replies))
            replies = context.channel.allocator.buffer(capacity: 0)
        case .idleAndClose:
            _ = ReplyEncoder.write(.error(code: .limit, text: "idle timeout"), into: &replies)
            session.countAnswered()
            context.writeThenClose(wrapOutboundOut(replies))
            replies = context.channel.allocator.buffer(capacity: 0)
        }
    }

    private func flushReplies(_ context: ChannelHandlerContext) {
        guard replies.readableBytes > 0, machine.phase != .closed else { return }
        // The replies leave now: so ends the time of the requests they answer.
        session.countAnswered()
        context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        // The next replies go into the same memory: TLS has copied these into its records
        // and the socket taken them, so the buffer is this handler's alone again and
        // clearing it keeps its memory (when a write is still pending, clearing gives a
        // fresh buffer instead). It keeps the size the connection's batches needed, so it
        // is not doubled again each time; one grown past the bound by a long listing is let
        // go.
        if replies.capacity > Self.maximumReplyCapacity {
            replies = context.channel.allocator.buffer(capacity: Self.maximumReplyCapacity)
        } else {
            replies.clear()
        }
    }

    /// The most room a connection's replies keep between writes: a listing of thousands of
    /// records should not make every later buffer as large.
    private static let maximumReplyCapacity = 16_384

    /// The end of the client's input, once every whole line it sent is answered: a final
    /// line without its end is not a request (see ``LineFrameDecoder``).
    private func takeInputClosed(context: ChannelHandlerContext) {
        unread.moveReaderIndex(to: unread.writerIndex)
        perform(machine.inputClosed(), context: context)
    }

    // MARK: - Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as ChannelEvent where event == .inputClosed:
            // The client half-closed: answer what was sent, then close. Lines held behind a
            // waiting BIND are answered first.
            if inputHeld {
                inputClosedWhileHeld = true
            } else {
                takeInputClosed(context: context)
            }
        case is Drain:
            perform(machine.drain(), context: context)
        case let event as IdleStateHandler.IdleStateEvent where event == .read:
            // Silent for the idle timeout: a last line, then the end.
            perform(machine.idleTimeout(), context: context)
        case let event as TLSUserEvent:
            if case .handshakeCompleted = event {
                machine.handshakeCompleted()
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

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// The decoder refused the stream (a line over the limit): answered after the lines
    /// decoded before it, then the connection closes, since the rest of the stream can't be
    /// trusted.
    private func refuse(_ error: any Error, context: ChannelHandlerContext) {
        guard let error = error as? ProtocolError else {
            errorCaught(context: context, error: error)
            return
        }
        logger.info("connection closed on a protocol limit", metadata: ["error": "\(error.message)"])
        perform(machine.protocolError(error), context: context)
    }
}
