import Synchronization

/// The current version of the directory, shared between one writer and many readers.
///
/// Readers take the current version (one reference, under a lock held for a pointer copy)
/// and query it for as long as they like; the writer builds the next version on its own
/// copy and publishes it. So reads never wait for a write to finish.
public final class LiveDirectory: Sendable {
    private let current: Mutex<DirectoryVersion>
    private let published = Atomic<UInt64>(0)
    /// Readers waiting for a revision (``waitUntil(revision:timeout:)``). Publishing takes
    /// this lock after making the version current, and a reader checks the current revision
    /// under it, so no waiter misses the version it waits for.
    private let waiters = Mutex(RevisionWaiters())

    /// Starts with `directory` as the current version.
    public init(_ directory: Directory) {
        current = Mutex(DirectoryVersion(directory))
    }

    /// The current version.
    public var version: DirectoryVersion {
        current.withLock { $0 }
    }

    /// The current directory.
    public var directory: Directory {
        version.directory
    }

    /// Makes `directory` the current version.
    public func publish(_ directory: Directory) {
        let version = DirectoryVersion(directory)
        current.withLock {
            $0 = version
            // Counted before the lock is let go: whoever sees this version through the lock
            // then sees the new generation too. Counted after it, a session could find the
            // version's revision through ``directory`` (a `revision=` query's check), then an
            // unchanged generation, and answer the query from the version it kept before.
            published.add(1, ordering: .releasing)
        }
        let reached = waiters.withLock { $0.take(reaching: directory.revision) }
        for waiter in reached { finish(waiter, reached: true) }
    }

    /// Returns once a version at `revision` or later is current, or once `timeout` has
    /// passed; whether the revision was reached. Where several nodes follow one log (cluster
    /// mode), a client that changed something through one node reads its change on another
    /// by waiting for the revision the change was answered with.
    public func waitUntil(revision: UInt64, timeout: Duration) async -> Bool {
        if directory.revision >= revision { return true }
        return await withCheckedContinuation { continuation in
            let registered = waiters.withLock { waiters -> RevisionWaiters.Waiter? in
                // Checked again under the waiters' lock: a version published since the first
                // look is seen here, or its publisher sees this waiter.
                guard version.directory.revision < revision else { return nil }
                return waiters.add(revision: revision, continuation: continuation)
            }
            guard let registered else {
                continuation.resume(returning: true)
                return
            }
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard let self, let expired = self.waiters.withLock({ $0.take(id: registered.id) }) else { return }
                self.finish(expired, reached: false)
            }
            waiters.withLock { $0.attach(timer, to: registered.id) }
        }
    }

    private func finish(_ waiter: RevisionWaiters.Waiter, reached: Bool) {
        if reached { waiter.timer?.cancel() }
        waiter.continuation.resume(returning: reached)
    }

    /// How many versions have been published: a reader that keeps a version takes the
    /// current one again only when this has moved. Reading it is a load of one shared
    /// word, where taking the version writes to the lock and to the version's reference
    /// count, which every core then fights over.
    public var generation: UInt64 {
        published.load(ordering: .acquiring)
    }
}

/// One immutable version of the directory, passed around by reference.
public final class DirectoryVersion: Sendable {
    /// The directory as it was when published.
    public let directory: Directory

    init(_ directory: Directory) {
        self.directory = directory
    }
}

/// The readers waiting for revisions, by id.
struct RevisionWaiters {
    struct Waiter {
        let id: Int
        let revision: UInt64
        let continuation: CheckedContinuation<Bool, Never>
        var timer: Task<Void, Never>?
    }

    private var waiters: [Int: Waiter] = [:]
    private var nextID = 0

    mutating func add(revision: UInt64, continuation: CheckedContinuation<Bool, Never>) -> Waiter {
        nextID += 1
        let waiter = Waiter(id: nextID, revision: revision, continuation: continuation)
        waiters[waiter.id] = waiter
        return waiter
    }

    mutating func attach(_ timer: Task<Void, Never>, to id: Int) {
        if waiters[id] != nil {
            waiters[id]?.timer = timer
        } else {
            // Already answered: the timer has nothing left to do.
            timer.cancel()
        }
    }

    mutating func take(id: Int) -> Waiter? {
        waiters.removeValue(forKey: id)
    }

    mutating func take(reaching revision: UInt64) -> [Waiter] {
        if waiters.isEmpty { return [] }
        let reached = waiters.values.filter { $0.revision <= revision }
        for waiter in reached { waiters[waiter.id] = nil }
        return reached
    }
}
