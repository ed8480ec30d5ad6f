import DeputyProtocol
import NIOCore
import NIOSSL

/// The client side of the protocol on one channel: writes request batches, reads reply lines,
/// waits for the greeting, and completes pending replies in request order.
///
/// Sits after a `ByteToMessageHandler(LineFrameDecoder)`, and after the TLS handler if any.
/// Every promise it holds is completed: with a reply, or with a ``DeputyClientError`` when the
/// connection closes, breaks, times out or receives something it cannot accept. Any such
/// failure closes the channel, since replies could no longer be matched to requests.
final class DeputyChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RequestBatch
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingGreeting
        case ready
        /// Closed, with the error to report for every request, or `nil` for a plain close,
        /// reported per request as ``DeputyClientError/Code/connectionClosed``.
        case closed(DeputyClientError?)
    }

    private struct PendingReply {
        let verb: String
        let promise: EventLoopPromise<Reply>
        var deadline: NIODeadline?
    }

    private let peer: String
    private let closeReason: CloseReason
    private let greetingPromise: EventLoopPromise<Greeting>
    private var connectDeadline: NIODeadline?
    private let connectTimeout: Duration
    private let requestTimeout: Duration?
    private var accumulator: ReplyAccumulator
    private var state = State.awaitingGreeting
    private var pending = CircularBuffer<PendingReply>()
    private var timer: Scheduled<Void>?

    /// The greeting, or the error that ended the connection before it.
    var greetingFuture: EventLoopFuture<Greeting> {
        self.greetingPromise.futureResult
    }

    /// Creates a handler; the connect timeout runs from when it is added to a pipeline, which
    /// is before the channel connects.
    init(peer: String, eventLoop: any EventLoop, closeReason: CloseReason, configuration: DeputyClientConfiguration) {
        self.peer = peer
        self.closeReason = closeReason
        self.greetingPromise = eventLoop.makePromise(of: Greeting.self)
        self.connectTimeout = configuration.connectTimeout
        self.requestTimeout = configuration.requestTimeout
        self.accumulator = ReplyAccumulator(limits: configuration.limits)
    }

    // MARK: - Lifecycle

    /// Fails the greeting when the handler could not be added to a pipeline, so that its
    /// promise is never left incomplete.
    func abandon(_ error: any Error) {
        if case .closed = self.state { return }
        self.state = .closed(nil)
        self.greetingPromise.fail(error)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Deadlines come from the loop's clock, so that tests on a virtual clock control them.
        self.connectDeadline = context.eventLoop.now + TimeAmount(self.connectTimeout)
        self.armTimer(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failEverything(context: context, reason: nil, close: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failEverything(context: context, reason: nil, close: false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let sslError = error as? NIOSSLError, case .uncleanShutdown = sslError {
            // The peer closed TCP without a TLS close_notify. That is a close like any other,
            // reported by channelInactive for the greeting or per pending request.
            return
        }
        self.failEverything(context: context, reason: self.clientError(for: error), close: true)
    }

    // MARK: - Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let batch = self.unwrapOutboundIn(data)
        if case .closed(let reason) = self.state {
            for (request, replyPromise) in zip(batch.requests, batch.promises) {
                replyPromise.fail(DeputyClientError.closedBeforeSending(self.peer, verb: request.verb, reason: reason))
            }
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let deadline = self.requestTimeout.map { context.eventLoop.now + TimeAmount($0) }
        var buffer = context.channel.allocator.buffer(capacity: batch.requests.count * 32)
        for (request, replyPromise) in zip(batch.requests, batch.promises) {
            RequestEncoder.write(request, into: &buffer)
            self.pending.append(PendingReply(verb: request.verb, promise: replyPromise, deadline: deadline))
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
        self.armTimer(context: context)
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = self.state { return }
        let reply: Reply?
        do {
            reply = try self.accumulator.append(line: self.unwrapInboundIn(data))
        } catch {
            self.failEverything(context: context, reason: self.clientError(for: error), close: true)
            return
        }
        guard let reply else { return }

        switch self.state {
        case .awaitingGreeting:
            self.receivedGreeting(reply, context: context)
        case .ready:
            guard let head = self.pending.popFirst() else {
                self.receivedUnsolicited(reply, context: context)
                return
            }
            // The next reply's time starts now at the latest: the server answers in order.
            if let timeout = self.requestTimeout, let next = self.pending.first?.deadline {
                self.pending[self.pending.startIndex].deadline = max(next, context.eventLoop.now + TimeAmount(timeout))
            }
            head.promise.succeed(reply)
        case .closed:
            return
        }
    }

    private func receivedGreeting(_ reply: Reply, context: ChannelHandlerContext) {
        let problem: String
        if !reply.records.isEmpty {
            problem = "data lines before the greeting"
        } else if case .error(let code, let text) = reply.status {
            problem = "it refused the session with ERR \(code) \(Self.printable(text))"
        } else if let greeting = Greeting(reply.status) {
            self.state = .ready
            // The greeting timer is no longer the right one; arm for the oldest request.
            self.timer?.cancel()
            self.timer = nil
            self.armTimer(context: context)
            self.greetingPromise.succeed(greeting)
            return
        } else {
            problem = "expected 'OK deputyd <version> ready'"
        }
        self.failEverything(context: context, reason: .invalidGreeting(self.peer, problem), close: true)
    }

    /// A reply with no request pending. An `ERR` then is how the server says why it is closing
    /// the session, as in `ERR limit idle timeout`; anything else breaks the protocol.
    private func receivedUnsolicited(_ reply: Reply, context: ChannelHandlerContext) {
        let reason: DeputyClientError
        if reply.records.isEmpty, case .error(let code, let text) = reply.status {
            reason = .closedByServer(self.peer, "ERR \(code) \(Self.printable(text))")
        } else {
            reason = .protocolViolation(self.peer, "a reply arrived with no request pending")
        }
        self.failEverything(context: context, reason: reason, close: true)
    }

    // MARK: - Timeouts

    // One timer at a time, for the greeting or for the oldest pending request. Deadlines grow
    // along the queue, so a timer armed for an earlier request fires no later than needed and
    // simply re-arms for the current oldest one.
    private func armTimer(context: ChannelHandlerContext) {
        guard self.timer == nil else { return }
        let deadline: NIODeadline
        switch self.state {
        case .awaitingGreeting:
            guard let connectDeadline = self.connectDeadline else { return }
            deadline = connectDeadline
        case .ready:
            guard let oldest = self.pending.first?.deadline else { return }
            deadline = oldest
        case .closed:
            return
        }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        self.timer = nil
        switch self.state {
        case .awaitingGreeting:
            let error = DeputyClientError.connectTimeout(self.peer, after: self.connectTimeout)
            self.failEverything(context: context, reason: error, close: true)
        case .ready:
            guard let oldest = self.pending.first else { return }
            if let deadline = oldest.deadline, let timeout = self.requestTimeout, deadline <= context.eventLoop.now {
                let error = DeputyClientError.requestTimeout(self.peer, verb: oldest.verb, after: timeout)
                self.failEverything(context: context, reason: error, close: true)
            } else {
                self.armTimer(context: context)
            }
        case .closed:
            return
        }
    }

    // MARK: - Failure

    private func failEverything(context: ChannelHandlerContext, reason: DeputyClientError?, close: Bool) {
        if case .closed = self.state { return }
        self.state = .closed(reason)
        if let reason {
            self.closeReason.record(reason)
        }
        self.timer?.cancel()
        self.timer = nil
        self.greetingPromise.fail(reason ?? .connectionClosed(self.peer, before: "the greeting"))
        while let entry = self.pending.popFirst() {
            entry.promise.fail(reason ?? .connectionClosed(self.peer, before: "the reply to \(entry.verb)"))
        }
        if close {
            context.close(promise: nil)
        }
    }

    private func clientError(for error: any Error) -> DeputyClientError {
        if let error = error as? DeputyClientError {
            return error
        }
        if let error = error as? ProtocolError {
            switch error.kind {
            case .lineTooLong, .tooManyRecords, .tooManyFields:
                return .replyTooLarge(self.peer, error)
            default:
                return .protocolViolation(self.peer, error.message)
            }
        }
        // Before the greeting, a TLS error can only come from the handshake.
        if case .awaitingGreeting = self.state, error is NIOSSLError || error is NIOSSLExtraError {
            return TLSFailureDescription.error(error, peer: self.peer)
        }
        return .connectionBroken(self.peer, error)
    }

    /// Server text made safe to show: control characters replaced, length capped.
    private static func printable(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(200).map { scalar in
            scalar.properties.generalCategory == .control ? "?" : Character(scalar)
        }
        return text.unicodeScalars.count > 200 ? String(scalars) + "..." : String(scalars)
    }
}
