import NIOCore
import Synchronization

/// The open connections, so the server can count them and drain them at shutdown.
package final class ConnectionRegistry: Sendable {
    package init() {}

    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    private let state = Mutex(State())

    /// Registers a connection; returns how many are open with it, or `nil` when the server
    /// is draining and takes no more.
    package func register(_ channel: any Channel) -> Int? {
        state.withLock { state in
            guard !state.draining else { return nil }
            state.channels[ObjectIdentifier(channel)] = channel
            return state.channels.count
        }
    }

    package func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The number of open connections.
    package var count: Int { state.withLock { $0.channels.count } }

    /// How long a shutdown waits for connections to finish the request in hand before it
    /// closes those still open: a client that never reads, or never ends its TLS handshake,
    /// must not hold the daemon up.
    static let shutdownGrace = TimeAmount.seconds(5)

    /// Takes no more connections and asks each open one to finish: `stop` is called for each
    /// (by default it stops reading, so the connection answers what it has read, sees the end
    /// of its input and closes). Whatever is still open after ``shutdownGrace`` is closed.
    package func drain(on eventLoop: any EventLoop, _ stop: (any Channel) -> Void = { $0.close(mode: .input, promise: nil) }) {
        let channels = state.withLock { state in
            state.draining = true
            return Array(state.channels.values)
        }
        for channel in channels { stop(channel) }
        eventLoop.scheduleTask(in: Self.shutdownGrace) { self.closeAll() }
    }

    private func closeAll() {
        let channels = state.withLock { Array($0.channels.values) }
        for channel in channels { channel.close(promise: nil) }
    }
}
