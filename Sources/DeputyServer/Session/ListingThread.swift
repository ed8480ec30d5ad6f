#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// The one thread that answers listings (`AUDIT`, `QUERY SEARCH`, `QUERY DELEGATIONS`), in
/// turn, at a lower scheduling priority than the event loops.
///
/// A search the index can't narrow builds every entry of its kinds: half a second on
/// 100,000 users. On a connection's event loop it held every connection that loop serves,
/// mail servers' lookups among them, for that long; on a thread of ordinary priority it
/// still takes a core from the event loops while it runs. Here it runs ten nice levels
/// below the process's own (at most 19), so an administrator's listing takes what the mail
/// path leaves, and runs at full speed on an idle machine. The thread lives as long as the
/// process; it starts with the first listing.
public final class ListingThread: Sendable {
    /// The process's listing thread.
    public static let shared = ListingThread(name: "deputy.listings")

    /// How much lower than the event loops the thread runs (`nice`).
    static let niceness: Int32 = 10

    /// The nice value ten above `base`, at most 19, the lowest priority.
    static func niceness(above base: Int32) -> Int32 { min(19, base + niceness) }

    /// The most listings that wait for the thread at once; more are refused at once. Each
    /// connection has at most one listing in hand (the lines behind it wait in the
    /// connection), so this bounds what many connections can pile up.
    public static let defaultLimit = 64

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let waiting = DispatchSemaphore(value: 0)
    private let name: String
    private let limit: Int
    private let started = Mutex(false)

    /// A thread named `name`, started by its first job, that holds at most `limit` jobs
    /// (the one running included).
    init(name: String, limit: Int = ListingThread.defaultLimit) {
        self.name = name
        self.limit = limit
    }

    /// Runs `work` on the thread, after the work queued before it, and returns its result;
    /// `nil`, at once, when `limit` jobs are already waiting.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
        startIfNeeded()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let taken = jobs.withLock { jobs -> Bool in
                guard jobs.count < limit else { return false }
                jobs.append { continuation.resume(returning: work()) }
                return true
            }
            if taken { waiting.signal() } else { continuation.resume(returning: nil) }
        }
    }

    /// The jobs waiting or running.
    var pending: Int { jobs.withLock { $0.count } }

    private func startIfNeeded() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        #if canImport(Glibc)
        let niceness = Self.niceness(above: getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        #endif
        let thread = Thread { [self] in
            // Named from within: on Linux a name given before the thread starts is not its own.
            Thread.current.name = name
            #if canImport(Glibc)
            // Linux gives each thread its own nice value, and `who` 0 is the calling thread
            // (the kernel's `current`); raising it needs no privilege. Ten above the thread
            // that started it, which has the event loops' (the process's) value.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
            #endif
            while true {
                waiting.wait()
                // Left in the queue while it runs, so that it counts against the limit.
                let job = jobs.withLock { $0[0] }
                job()
                jobs.withLock { _ = $0.removeFirst() }
            }
        }
        thread.start()
    }
}
