import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The loopback HTTP listener for monitoring: `/metrics` (Prometheus text format),
/// `/livez` (the process answers) and `/readyz` (``ServiceReadiness``). One request per
/// connection; a connection that sends nothing for 10 s is closed.
public final class HealthServer: Service, Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private let listener: NIOAsyncChannel<Connection, Never>
    private let registry: PrometheusCollectorRegistry
    private let readiness: ServiceReadiness
    private let beforeScrape: @Sendable () async -> Void
    private let logger: Logger

    /// The bound address (port 0 becomes the real port).
    public let address: ListenAddress

    /// Binds `address` now, so that a taken port stops the daemon before it starts.
    public init(
        address: ListenAddress, registry: PrometheusCollectorRegistry, readiness: ServiceReadiness,
        beforeScrape: @escaping @Sendable () async -> Void = {}, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws {
        guard case .tcp(let host, let port) = address else { throw ConfigurationError("the metrics listener needs HOST:PORT") }
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ListenError(address, error)
        }
        let bound = listener.channel.localAddress
        self.address = .tcp(host: bound?.ipAddress ?? host, port: bound?.port ?? port)
        self.registry = registry
        self.readiness = readiness
        self.beforeScrape = beforeScrape
        self.logger = logger
        logger.notice("serving metrics and health", metadata: ["listen.address": "\(self.address)"])
    }

    /// Serves until the task is cancelled or graceful shutdown begins.
    public func run() async {
        let channel = listener.channel
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    private func serve(_ connection: Connection) async {
        let timeout = connection.channel.eventLoop.scheduleTask(in: .seconds(10)) { connection.channel.close(promise: nil) }
        defer { timeout.cancel() }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let received): head = received
                case .body: continue
                case .end:
                    guard let head else { return }
                    let (status, contentType, body) = await answer(head)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(body.readableBytes))
                    headers.add(name: "Connection", value: "close")
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                    if head.method != .HEAD { try await outbound.write(.body(.byteBuffer(body))) }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    private func answer(_ head: HTTPRequestHead) async -> (HTTPResponseStatus, String, ByteBuffer) {
        let text = "text/plain; charset=utf-8"
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, text, ByteBuffer(string: "GET only\n")) }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch path {
        case "/metrics":
            await beforeScrape()
            // The request series are counted per thread and added up here (RequestStatistics).
            var body = ByteBuffer(bytes: registry.emitToBuffer())
            body.writeString(RequestStatistics.shared.exposition())
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", body)
        case "/livez":
            return (.ok, text, ByteBuffer(string: "ok\n"))
        case "/readyz":
            if let reason = await readiness.reasonNotReady() {
                return (.serviceUnavailable, text, ByteBuffer(string: "not ready: \(reason)\n"))
            }
            return (.ok, text, ByteBuffer(string: "ready\n"))
        default:
            return (.notFound, text, ByteBuffer(string: "not found; try /metrics, /livez or /readyz\n"))
        }
    }
}
