#if canImport(Glibc)
import Glibc
#endif
import DeputyCore
import Dispatch
import Foundation
import Synchronization

/// The one thread that answers listings (`AUDIT`, `QUERY SEARCH`, `QUERY DELEGATIONS`), a
/// turn per principal, at a lower scheduling priority than the event loops.
///
/// A search the index can't narrow builds every entry of its kinds: half a second on
/// 100,000 users. On a connection's event loop it held every connection that loop serves,
/// mail servers' lookups among them, for that long; on a thread of ordinary priority it
/// still takes a core from the event loops while it runs. Here it runs ten nice levels
/// below the process's own (at most 19), so an administrator's listing takes what the mail
/// path leaves, and runs at full speed on an idle machine. The thread lives as long as the
/// process; it starts with the first listing.
///
/// Principals take turns: one job of each principal with jobs waiting, in the order they
/// first came, then round again. So a user whose connections send search after search
/// delays an administrator's `AUDIT` by one search, not by every one queued. One
/// principal holds at most ``defaultOwnerLimit`` of the ``defaultLimit`` places, so that
/// it can't fill them all.
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

    /// The most listings of one principal that wait at once, over all its connections.
    public static let defaultOwnerLimit = 16

    /// Why a listing was not queued.
    public enum Refusal: Error, Sendable, Equatable {
        /// ``ListingThread/limit`` listings wait already.
        case full
        /// The principal has ``ListingThread/ownerLimit`` listings waiting already.
        case ownerFull
    }

    private struct Queue {
        /// Each principal's jobs, waiting or running, first come first; a principal is
        /// here only while it has some. A job returns what hands its answer over, so that
        /// its place is given up first.
        var jobs: [Principal: [@Sendable () -> @Sendable () -> Void]] = [:]
        /// The principals whose turn comes, in turn; the one whose job runs is not in it.
        var turns: [Principal] = []
        /// Every job waiting or running.
        var count = 0
    }

    private let queue = Mutex(Queue())
    private let waiting = DispatchSemaphore(value: 0)
    private let name: String
    let limit: Int
    let ownerLimit: Int
    private let started = Mutex(false)

    /// A thread named `name`, started by its first job, that holds at most `limit` jobs
    /// (the one running included), at most `ownerLimit` of one principal.
    init(name: String, limit: Int = ListingThread.defaultLimit, ownerLimit: Int = ListingThread.defaultOwnerLimit) {
        self.name = name
        self.limit = limit
        self.ownerLimit = ownerLimit
    }

    /// Runs `work` for `owner` on the thread, in `owner`'s next turn, and returns its
    /// result; a refusal, at once, when the thread or `owner`'s share of it is full.
    public func run<T: Sendable>(for owner: Principal, _ work: @escaping @Sendable () -> T) async -> Result<T, Refusal> {
        startIfNeeded()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Refusal>, Never>) in
            let refusal = queue.withLock { queue -> Refusal? in
                guard queue.count < limit else { return .full }
                let mine = queue.jobs[owner, default: []]
                guard mine.count < ownerLimit else { return .ownerFull }
                // A principal with no job in hand gets a turn; one with jobs has its turn
                // already, or is running one and is given its next turn after it.
                if mine.isEmpty { queue.turns.append(owner) }
                queue.jobs[owner, default: []].append {
                    let answer = work()
                    return { continuation.resume(returning: .success(answer)) }
                }
                queue.count += 1
                return nil
            }
            if let refusal { continuation.resume(returning: .failure(refusal)) } else { waiting.signal() }
        }
    }

    /// The jobs waiting or running.
    var pending: Int { queue.withLock { $0.count } }

    /// The next principal's first job, taken off the turns while it runs (it stays in the
    /// count, which the limits read).
    private func next() -> (Principal, @Sendable () -> @Sendable () -> Void) {
        queue.withLock { queue in
            let owner = queue.turns.removeFirst()
            return (owner, queue.jobs[owner]![0])
        }
    }

    /// Ends `owner`'s running job; its next job, if any, waits for the other principals'.
    private func finished(_ owner: Principal) {
        queue.withLock { queue in
            queue.jobs[owner]!.removeFirst()
            queue.count -= 1
            if queue.jobs[owner]!.isEmpty {
                queue.jobs[owner] = nil
            } else {
                queue.turns.append(owner)
            }
        }
    }

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
            #if canImport(Glibc)
            // Named from within, through the kernel's own file for it: Foundation's setter
            // names the thread only once the starting thread has recorded it, which a new
            // thread can outrun, leaving it the name of the thread that started it (and
            // Glibc's pthread_setname_np is not visible to Swift).
            let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            if comm >= 0 {
                _ = name.withCString { write(comm, $0, strlen($0)) }
                close(comm)
            }
            // Linux gives each thread its own nice value, and `who` 0 is the calling thread
            // (the kernel's `current`); raising it needs no privilege. Ten above the thread
            // that started it, which has the event loops' (the process's) value.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
            #else
            Thread.current.name = name
            #endif
            while true {
                // One signal for each job queued, so a principal's turn always has a job.
                waiting.wait()
                let (owner, job) = next()
                let handOver = job()
                // The place is free before the answer leaves: a client that sends its next
                // listing as soon as it has the last one's answer finds it free.
                finished(owner)
                handOver()
            }
        }
        thread.start()
    }
}
