import DeputyProtocol
import NIOCore

/// One connection to a Deputy server, over which requests can be pipelined.
///
/// ```swift
/// let endpoint = try DeputyClientConfiguration.Endpoint(parsing: "directory.example.org")
/// try await DeputyConnection.withConnection(to: endpoint) { connection in
///     let bound = try await connection.bind(login: "admin@example.org", password: password)
///     guard bound.status.isOK else { ... }
///     let replies = try await connection.send(requests)   // written at once, answered in order
/// }
/// ```
///
/// Any number of tasks may send at the same time: each request is written as soon as it is
/// sent, and replies, which the server returns in request order, are matched to requests in
/// that order. A reply whose status is `ERR` is returned, not thrown; failures of the
/// connection itself throw ``DeputyClientError``, and fail every request still waiting.
/// Cancelling a task waiting for a reply makes it throw `CancellationError`; the reply is
/// still read and discarded, so later replies stay matched.
///
/// The connection does not cap how many requests are in flight: the caller decides. `deputyd`
/// reads at most 1,024 requests ahead and then waits for its replies to drain, so a larger
/// batch is simply written more slowly. Each reply is bounded by the configured
/// ``DeputyClientConfiguration/limits``.
public final class DeputyConnection: Sendable {
    /// The endpoint connected to.
    public let endpoint: DeputyClientConfiguration.Endpoint

    /// The server's greeting text, for example `deputyd 1.4.0 ready`.
    public let greeting: String

    /// The server version from the greeting, for example `1.4.0`.
    public let serverVersion: String

    let channel: any Channel
    private let closeReason: CloseReason

    init(
        channel: any Channel,
        endpoint: DeputyClientConfiguration.Endpoint,
        greeting: Greeting,
        closeReason: CloseReason
    ) {
        self.channel = channel
        self.closeReason = closeReason
        self.endpoint = endpoint
        self.serverVersion = greeting.version
        self.greeting = "deputyd \(greeting.version) ready"
    }

    /// Whether the connection is still open.
    public var isActive: Bool {
        self.channel.isActive
    }

    // MARK: - Requests

    /// Sends one request and returns its reply, `OK` or `ERR`.
    ///
    /// - Throws: ``DeputyClientError`` if the connection closes, breaks or times out before the
    ///   reply arrives, or the reply exceeds the limits; `CancellationError` if the task is
    ///   cancelled while waiting.
    public func send(_ request: RequestLine) async throws -> Reply {
        let replies = try await self.send([request])
        guard let reply = replies.first else {
            throw DeputyClientError.protocolViolation(self.endpoint.description, "no reply was matched to the request")
        }
        return reply
    }

    /// Writes all `requests` at once, flushes once, and returns their replies in order.
    ///
    /// - Throws: the first failure among the replies, as for ``send(_:)-(RequestLine)``.
    public func send(_ requests: [RequestLine]) async throws -> [Reply] {
        guard !requests.isEmpty else { return [] }
        let (promises, replies) = write(requests)
        return try await withTaskCancellationHandler {
            // One wait for the whole batch: waiting on each reply's future in turn would
            // cross from the event loop to this task once per reply.
            try await replies.get()
        } onCancel: {
            // Completing a promise twice is a no-op, so the reply that arrives later is dropped
            // while its place in the queue keeps the following replies matched.
            for promise in promises {
                promise.fail(CancellationError())
            }
        }
    }

    /// Writes all `requests` at once, flushes once, and returns a future of their replies in
    /// order, completed on ``eventLoop``. For callers that run on the connection's event
    /// loop (a load generator holding a request rate), where a task would add a thread hop
    /// to every reply. The future fails as ``send(_:)-([RequestLine])`` throws.
    public func submit(_ requests: [RequestLine]) -> EventLoopFuture<[Reply]> {
        guard !requests.isEmpty else { return channel.eventLoop.makeSucceededFuture([]) }
        return write(requests).replies
    }

    /// The event loop the connection runs on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    private func write(_ requests: [RequestLine]) -> (promises: [EventLoopPromise<Reply>], replies: EventLoopFuture<[Reply]>) {
        let eventLoop = self.channel.eventLoop
        let promises = requests.map { _ in eventLoop.makePromise(of: Reply.self) }
        let peer = self.endpoint.description
        let closeReason = self.closeReason
        self.channel.writeAndFlush(RequestBatch(requests: requests, promises: promises)).whenFailure { _ in
            // The handler has already failed the promises if it saw the write; if the
            // channel was gone before it could, these are the first completions.
            for (request, promise) in zip(requests, promises) {
                promise.fail(
                    DeputyClientError.closedBeforeSending(peer, verb: request.verb, reason: closeReason.error)
                )
            }
        }
        // Replies complete in order, so the failure reported is the first one among them.
        let replies = promises.count == 1
            ? promises[0].futureResult.map { [$0] }
            : EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: eventLoop)
        return (promises, replies)
    }

    // MARK: - Closing

    /// Closes the connection and waits until it is closed; requests still waiting fail with
    /// ``DeputyClientError/Code/connectionClosed``. Closing twice is harmless.
    public func close() async {
        self.channel.close(mode: .all, promise: nil)
        try? await self.channel.closeFuture.get()
    }

    /// Starts closing without waiting, for `defer` blocks.
    func closeSoon() {
        self.channel.close(mode: .all, promise: nil)
    }
}
