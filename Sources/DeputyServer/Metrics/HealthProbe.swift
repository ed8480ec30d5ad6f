import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-request HTTP client for the ``HealthServer``: what `deputyd health` asks.
public enum HealthProbe {
    /// The answer: status code and body.
    public struct Answer: Sendable {
        public let status: Int
        public let body: String
    }

    /// GETs `path` from `address`, giving up after `timeout`.
    public static func get(
        _ path: String, from address: ListenAddress, timeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Answer {
        guard case .tcp(let host, let port) = address else { throw ConfigurationError("the metrics listener needs HOST:PORT") }
        let connection = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        let deadline = connection.channel.eventLoop.scheduleTask(in: timeout) { connection.channel.close(promise: nil) }
        defer { deadline.cancel() }
        return try await connection.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            // Head and end in one write: a GET has no body, so the server may answer (and
            // close) as soon as the head is in, before a separate write of the end.
            try await outbound.write(contentsOf: [.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)), .end(nil)])
            var status = 0
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end: return Answer(status: status, body: String(buffer: body))
                }
            }
            throw ConfigurationError("the health listener at \(address) closed before answering")
        }
    }
}
