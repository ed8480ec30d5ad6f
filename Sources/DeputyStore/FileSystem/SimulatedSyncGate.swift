import Foundation

/// A gate that file fsyncs of a ``SimulatedFileSystem`` wait at while it is closed, so a
/// test can hold a batch in flight and let further commits queue behind it.
final class SimulatedSyncGate: @unchecked Sendable {
    // NSCondition guards every field; every access below holds it.
    private let condition = NSCondition()
    private var closed = false
    /// The only path whose fsyncs wait, or `nil` for every path.
    private var path: String?
    private var waiting = 0
    /// Fsyncs let through while the gate stays closed.
    private var permits = 0

    func close(for path: String?) {
        condition.lock()
        closed = true
        permits = 0
        self.path = path
        condition.unlock()
    }

    func open() {
        condition.lock()
        closed = false
        permits = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Lets one fsync through, the one waiting or the next to come, and stays closed for
    /// the rest.
    func letOneThrough() {
        condition.lock()
        permits += 1
        condition.broadcast()
        condition.unlock()
    }

    /// How many fsyncs are waiting at the gate.
    var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }

    /// Returns at once while the gate is open or closed for another path; otherwise waits
    /// until it opens.
    func pass(_ path: String) {
        condition.lock()
        defer { condition.unlock() }
        guard closed, self.path == nil || self.path == path else { return }
        waiting += 1
        while closed && permits == 0 { condition.wait() }
        if closed { permits -= 1 }
        waiting -= 1
    }
}
