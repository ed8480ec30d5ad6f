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
        let promises = write(requests)
        let replies = Self.inOrder(promises, on: channel.eventLoop)
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

    /// Writes all `requests` at once, like ``send(_:)-([RequestLine])``, and returns what
    /// became of each: its reply, or why none came. When the connection breaks partway, the
    /// requests answered before it are told from those whose outcome is unknown (a change
    /// sent but not answered may or may not have been made), which a pipelined import must
    /// report row by row.
    public func sendEach(_ requests: [RequestLine]) async -> [Result<Reply, any Error>] {
        guard !requests.isEmpty else { return [] }
        let promises = write(requests)
        let outcomes = EventLoopFuture.whenAllComplete(promises.map(\.futureResult), on: channel.eventLoop)
        return await withTaskCancellationHandler {
            do {
                return try await outcomes.get()
            } catch {
                // whenAllComplete does not fail; should it, no request has a known outcome.
                return promises.map { _ in .failure(error) }
            }
        } onCancel: {
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
        return Self.inOrder(write(requests), on: channel.eventLoop)
    }

    /// The event loop the connection runs on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    private func write(_ requests: [RequestLine]) -> [EventLoopPromise<Reply>] {
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
        return promises
    }

    /// The replies of `promises` in order, or the first failure among them (replies complete
    /// in order, so that is the first request left unanswered).
    private static func inOrder(_ promises: [EventLoopPromise<Reply>], on eventLoop: any EventLoop) -> EventLoopFuture<[Reply]> {
        promises.count == 1
            ? promises[0].futureResult.map { [$0] }
            : EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: eventLoop)
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
