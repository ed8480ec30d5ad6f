import Foundation
import NIOCore
import NIOPosix

/// One listening socket of the daemon, for the protocol and the mail adapters alike: bound
/// with the daemon's socket options, accepting each connection into a task of its own.
///
/// TCP listeners set `TCP_NODELAY` on their connections (an answer is one small write that
/// must not wait); Unix sockets are made mode 0660, so that mail servers running as users
/// of the daemon's group can connect. Every connection may half-close after its last
/// request and still read every reply, and a shutdown can stop reading while replies go out.
package struct ConnectionListener<Connection: Sendable>: Sendable {
    package typealias Socket = NIOAsyncChannel<Connection, Never>

    /// The listening socket.
    package let socket: Socket
    /// Where it listens, with the port the system chose for port 0.
    package let address: ListenAddress

    /// Binds `address`; `initializer` sets up each accepted channel and gives what
    /// ``accept(_:)`` hands on. A failure is a ``ListenError`` that names the address.
    package static func bind(
        _ address: ListenAddress, group: any EventLoopGroup,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Connection>
    ) async throws -> ConnectionListener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let socket: Socket
        do {
            switch address {
            case .tcp(let host, let port):
                // TCP_NODELAY is an IPPROTO_TCP option, and for TCP sockets only: set at the
                // socket level it would be SO_DEBUG, which only root may set.
                socket = try await bootstrap.childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .bind(host: host, port: port, childChannelInitializer: initializer)
            case .unix(let path):
                socket = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
                // Local mail servers run as other users of the same group.
                _ = chmod(path, 0o660)
            }
        } catch {
            throw ListenError(address, error)
        }
        return ConnectionListener(socket: socket, address: Self.address(of: socket.channel) ?? address)
    }

    /// Accepts until the socket closes, running `serve` for each connection in a task of its
    /// own; returns once every connection's task has ended, so a shutdown waits for them.
    package func accept(_ serve: @escaping @Sendable (Connection) async -> Void) async throws {
        try await socket.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    /// Stops accepting; connections already open go on.
    package func close() {
        socket.channel.close(promise: nil)
    }

    /// Frees a socket that will never accept (another listener failed to bind).
    package func release() async {
        try? await socket.executeThenClose { _ in }
    }

    private static func address(of channel: any Channel) -> ListenAddress? {
        guard let address = channel.localAddress else { return nil }
        if let path = address.pathname { return .unix(path: path) }
        guard let host = address.ipAddress, let port = address.port else { return nil }
        return .tcp(host: host, port: port)
    }
}
