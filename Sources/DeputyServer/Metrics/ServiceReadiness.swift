import Synchronization

/// Whether the daemon should be sent traffic: only once its directory is recovered and its
/// listeners are bound, and not after its storage failed (changes would be refused), in
/// cluster mode after the node stopped applying the shared log, or once it is shutting down.
public final class ServiceReadiness: Sendable {
    private let state = Mutex<State>(State())

    private struct State {
        var listening = false
        var stopping = false
        var storageFailure: (@Sendable () async -> String?)?
    }

    public init() {}

    /// Called once every listener is bound.
    public func markListening() {
        state.withLock { $0.listening = true }
    }

    /// Called as a graceful shutdown begins: a load balancer stops sending new clients while
    /// those connected finish what they asked.
    public func markStopping() {
        state.withLock { $0.stopping = true }
    }

    /// Called once the directory is recovered (a cluster node's loaded): `failure` answers
    /// why the storage behind it can't serve as it should, or `nil`.
    public func watchStorage(_ failure: @escaping @Sendable () async -> String?) {
        state.withLock { $0.storageFailure = failure }
    }

    /// `nil` when ready, else why not.
    public func reasonNotReady() async -> String? {
        let (listening, stopping, storage) = state.withLock { ($0.listening, $0.stopping, $0.storageFailure) }
        if stopping { return "shutting down" }
        guard let storage else { return "recovering the directory" }
        if let failure = await storage() { return "storage failed: \(failure)" }
        guard listening else { return "starting the listeners" }
        return nil
    }
}
