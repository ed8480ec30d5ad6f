import Synchronization

/// Why a connection ended, kept after its handlers are gone so that a request sent later is
/// told the real cause (say, the server's `ERR limit idle timeout`) rather than only that the
/// connection is closed. The first reason recorded wins.
final class CloseReason: Sendable {
    private let reason = Mutex<DeputyClientError?>(nil)

    /// The recorded reason, or `nil` for a plain close or a connection still open.
    var error: DeputyClientError? {
        self.reason.withLock { $0 }
    }

    func record(_ error: DeputyClientError) {
        self.reason.withLock { reason in
            if reason == nil {
                reason = error
            }
        }
    }
}
