import DeputyClient
import DeputyProtocol
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A tiny Deputy server for tests, on 127.0.0.1 port 0 (TLS or plaintext) or a Unix socket.
///
/// It speaks a scripted subset of the protocol; see ``ScriptedServerHandler`` for the verbs.
/// The certificate can be swapped between connections, and every connection can be closed on
/// demand, to test what clients do then.
final class ScriptedServer: Sendable {
    enum Transport {
        case tls(TestCertificate)
        case plaintextTCP
        case unixSocket
    }

    struct State {
        var tlsContext: NIOSSLContext?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var receivedLines: [String] = []
        var acceptedConnections = 0
    }

    /// The line sent on connect, or `nil` to send nothing.
    let greeting: String?
    let state: Mutex<State>
    private let serverChannel: Mutex<(any Channel)?>
    private let tlsTweak: @Sendable (inout TLSConfiguration) -> Void
    let unixSocketPath: String?

    private init(
        greeting: String?,
        unixSocketPath: String?,
        tlsTweak: @escaping @Sendable (inout TLSConfiguration) -> Void
    ) {
        self.greeting = greeting
        self.unixSocketPath = unixSocketPath
        self.tlsTweak = tlsTweak
        self.state = Mutex(State())
        self.serverChannel = Mutex(nil)
    }

    /// Starts a server; `tlsTweak` may change its TLS configuration (TLS 1.2 minimum by default).
    static func start(
        _ transport: Transport,
        greeting: String? = "OK deputyd 9.9.9-test ready",
        tlsTweak: @escaping @Sendable (inout TLSConfiguration) -> Void = { _ in }
    ) async throws -> ScriptedServer {
        let socketPath: String?
        if case .unixSocket = transport {
            // Short and unique: socket paths are limited to about 100 bytes.
            socketPath = "/tmp/deputy-\(UUID().uuidString.prefix(8)).sock"
        } else {
            socketPath = nil
        }
        let server = ScriptedServer(greeting: greeting, unixSocketPath: socketPath, tlsTweak: tlsTweak)
        if case .tls(let certificate) = transport {
            try server.useCertificate(certificate)
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try server.setUpChild(channel)
                }
            }
        let channel: any Channel
        if let socketPath {
            channel = try await bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
        } else {
            channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        }
        server.serverChannel.withLock { $0 = channel }
        return server
    }

    /// The TCP port bound.
    var port: Int {
        self.serverChannel.withLock { $0?.localAddress?.port ?? 0 }
    }

    /// The endpoint to reach this server over TLS.
    var tlsEndpoint: DeputyClientConfiguration.Endpoint {
        .tls(host: "127.0.0.1", port: self.port)
    }

    /// The endpoint to reach this server in plaintext.
    var plaintextEndpoint: DeputyClientConfiguration.Endpoint {
        if let unixSocketPath {
            return .unixSocket(path: unixSocketPath)
        }
        return .plaintext(host: "127.0.0.1", port: self.port)
    }

    /// Presents `certificate` on connections accepted from now on.
    func useCertificate(_ certificate: TestCertificate) throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate.nioCertificate)],
            privateKey: .privateKey(certificate.nioPrivateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        self.tlsTweak(&configuration)
        let context = try NIOSSLContext(configuration: configuration)
        self.state.withLock { $0.tlsContext = context }
    }

    /// Every request line received so far, on all connections, in arrival order per connection.
    var receivedLines: [String] {
        self.state.withLock { $0.receivedLines }
    }

    /// The number of connections accepted so far.
    var acceptedConnections: Int {
        self.state.withLock { $0.acceptedConnections }
    }

    /// Closes every open connection.
    func closeAllConnections() {
        let channels = self.state.withLock { Array($0.connections.values) }
        for channel in channels {
            channel.close(mode: .all, promise: nil)
        }
    }

    /// Stops listening and closes every connection.
    func stop() async {
        self.closeAllConnections()
        let channel = self.serverChannel.withLock { $0 }
        try? await channel?.close()
        if let unixSocketPath {
            try? FileManager.default.removeItem(atPath: unixSocketPath)
        }
    }

    // MARK: - Connections

    private func setUpChild(_ channel: any Channel) throws {
        let tlsContext = self.state.withLock { state in
            state.connections[ObjectIdentifier(channel)] = channel
            state.acceptedConnections += 1
            return state.tlsContext
        }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        if let tlsContext {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
        }
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
            ScriptedServerHandler(server: self)
        )
    }

    func record(_ line: String) {
        self.state.withLock { $0.receivedLines.append(line) }
    }
}

/// Starts a server, runs `body`, and stops the server however `body` ends.
func withScriptedServer<Value>(
    _ transport: ScriptedServer.Transport,
    greeting: String? = "OK deputyd 9.9.9-test ready",
    tlsTweak: @escaping @Sendable (inout TLSConfiguration) -> Void = { _ in },
    _ body: (ScriptedServer) async throws -> Value
) async throws -> Value {
    let server = try await ScriptedServer.start(transport, greeting: greeting, tlsTweak: tlsTweak)
    do {
        let value = try await body(server)
        await server.stop()
        return value
    } catch {
        await server.stop()
        throw error
    }
}

extension ScriptedServer {
    /// Connects to this server without TLS (over TCP or its Unix socket), runs `body`, closes.
    func withPlaintextConnection<Value>(
        configuration: DeputyClientConfiguration = testConfiguration(),
        _ body: (DeputyConnection) async throws -> Value
    ) async throws -> Value {
        try await DeputyConnection.withConnection(
            to: self.plaintextEndpoint,
            configuration: configuration,
            operation: body
        )
    }

    /// Connects to this server over TLS with `trust`, runs `body`, closes.
    func withTLSConnection<Value>(
        trust: DeputyTrust,
        host: String = "127.0.0.1",
        _ body: (DeputyConnection) async throws -> Value
    ) async throws -> Value {
        try await DeputyConnection.withConnection(
            to: .tls(host: host, port: self.port),
            configuration: testConfiguration(trust: trust),
            operation: body
        )
    }

    /// Connects to this server without TLS and returns the open connection.
    func connectPlaintext(
        configuration: DeputyClientConfiguration = testConfiguration()
    ) async throws -> DeputyConnection {
        try await DeputyConnection.connect(to: self.plaintextEndpoint, configuration: configuration)
    }

    /// Connects to this server over TLS with `trust` and returns the open connection.
    func connectTLS(trust: DeputyTrust, host: String = "127.0.0.1") async throws -> DeputyConnection {
        try await DeputyConnection.connect(
            to: .tls(host: host, port: self.port),
            configuration: testConfiguration(trust: trust)
        )
    }
}
