import DeputyProtocol
import NIOCore

/// Requests written together, each with the promise its reply completes.
///
/// The outbound message of ``DeputyChannelHandler``: a batch is encoded into one buffer and
/// written once, so pipelining many requests costs one write and one flush.
struct RequestBatch: Sendable {
    let requests: [RequestLine]
    let promises: [EventLoopPromise<Reply>]

    init(requests: [RequestLine], promises: [EventLoopPromise<Reply>]) {
        precondition(requests.count == promises.count, "one promise per request")
        self.requests = requests
        self.promises = promises
    }
}
