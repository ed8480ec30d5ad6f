import NIOCore
import Synchronization

/// The open connections, so the server can count them and drain them at shutdown.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    private let state = Mutex(State())

    /// Registers a connection; returns how many are open with it, or `nil` when the server
    /// is draining and takes no more.
    func register(_ channel: any Channel) -> Int? {
        state.withLock { state in
            guard !state.draining else { return nil }
            state.channels[ObjectIdentifier(channel)] = channel
            return state.channels.count
        }
    }

    func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The number of open connections.
    var count: Int { state.withLock { $0.channels.count } }

    /// Stops reading from every connection: each finishes the request it is answering,
    /// writes the reply, sees the end of its input and closes.
    func drain() {
        let channels = state.withLock { state in
            state.draining = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.close(mode: .input, promise: nil)
        }
    }
}
