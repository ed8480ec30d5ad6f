import NIOPosix
import NIOCore
import Synchronization

/// `deputy_requests_total{verb,result}` and `deputy_request_duration_seconds{verb}`, counted
/// with no write that two event-loop threads share.
///
/// Every request is counted, so a series shared by all threads (one counter, one histogram
/// under one lock) makes every answer touch the same cache lines from every core: on many
/// cores that cost more than answering. Here each thread counts into a shard of its own,
/// under a lock that only it takes between scrapes, and `/metrics` adds the shards up.
public final class RequestStatistics: Sendable {
    /// The daemon's statistics; tests read them through `/metrics` like an operator.
    public static let shared = RequestStatistics()

    /// The histogram's upper bounds in nanoseconds: queries take microseconds and changes
    /// an fsync, so 25 µs to 5 s.
    static let bucketBounds: [Int64] = [
        25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_000_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
        100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 5_000_000_000,
    ]

    /// A verb and its result: the labels of one request series.
    struct Key: Hashable, Sendable {
        let verb: String
        let result: String
    }

    /// One thread's counts.
    final class Shard: Sendable {
        struct Counts {
            var slots: [Key: Int] = [:]
            var keys: [Key] = []
            var requests: [Int] = []
            /// `bucketBounds.count + 1` per slot, the last for larger values.
            var buckets: [Int] = []
            var nanoseconds: [Int64] = []

            /// Adds `count` requests of `key` that took `elapsed` nanoseconds each.
            mutating func add(_ key: Key, nanoseconds elapsed: Int64, count: Int, slot: inout Int?) {
                let index: Int
                if let cached = slot, cached < keys.count, keys[cached] == key {
                    index = cached
                } else {
                    index = self.slot(for: key)
                    slot = index
                }
                let elapsed = max(0, elapsed)
                requests[index] &+= count
                nanoseconds[index] &+= elapsed &* Int64(count)
                var bucket = 0
                let bounds = RequestStatistics.bucketBounds
                while bucket < bounds.count, elapsed > bounds[bucket] { bucket += 1 }
                buckets[index * (bounds.count + 1) + bucket] &+= count
            }

            mutating func slot(for key: Key) -> Int {
                if let slot = slots[key] { return slot }
                let slot = keys.count
                slots[key] = slot
                keys.append(key)
                requests.append(0)
                buckets.append(contentsOf: repeatElement(0, count: RequestStatistics.bucketBounds.count + 1))
                nanoseconds.append(0)
                return slot
            }
        }

        let counts = Mutex(Counts())

        /// Counts one request of `key` that took `nanoseconds`; `slot` caches where the key
        /// lives, so a connection repeating one verb hashes nothing.
        func record(_ key: Key, nanoseconds elapsed: Int64, slot: inout Int?) {
            counts.withLock { counts in counts.add(key, nanoseconds: elapsed, count: 1, slot: &slot) }
        }

        /// Counts each run of `runs` as ended at `now` (the monotonic clock in nanoseconds),
        /// under one turn of the lock.
        fileprivate func record(_ runs: [RequestCounter.Run], endingAt now: UInt64, slot: inout Int?) {
            counts.withLock { counts in
                for run in runs {
                    counts.add(run.key, nanoseconds: Int64(truncatingIfNeeded: now &- run.start), count: run.count, slot: &slot)
                }
            }
        }
    }

    private let shards = Mutex<[Shard]>([])
    private let local = ThreadSpecificVariable<Shard>()

    public init() {}

    /// The calling thread's shard, made on its first request.
    func currentShard() -> Shard {
        if let shard = local.currentValue { return shard }
        let shard = Shard()
        local.currentValue = shard
        shards.withLock { $0.append(shard) }
        return shard
    }

    /// The totals, by key: requests, histogram buckets (not cumulative) and nanoseconds.
    func totals() -> [Key: (requests: Int, buckets: [Int], nanoseconds: Int64)] {
        var totals: [Key: (requests: Int, buckets: [Int], nanoseconds: Int64)] = [:]
        let width = Self.bucketBounds.count + 1
        for shard in shards.withLock({ $0 }) {
            shard.counts.withLock { counts in
                for (slot, key) in counts.keys.enumerated() {
                    var total = totals[key] ?? (0, Array(repeating: 0, count: width), 0)
                    total.requests += counts.requests[slot]
                    total.nanoseconds += counts.nanoseconds[slot]
                    for bucket in 0..<width { total.buckets[bucket] += counts.buckets[slot * width + bucket] }
                    totals[key] = total
                }
            }
        }
        return totals
    }

    /// The two series in Prometheus's text format, sorted so that scrapes compare.
    public func exposition() -> String {
        let totals = totals()
        var text = "# TYPE deputy_requests_total counter\n"
        for key in totals.keys.sorted(by: { ($0.verb, $0.result) < ($1.verb, $1.result) }) {
            text += "deputy_requests_total{verb=\"\(key.verb)\",result=\"\(key.result)\"} \(totals[key]!.requests)\n"
        }
        var byVerb: [String: (requests: Int, buckets: [Int], nanoseconds: Int64)] = [:]
        for (key, total) in totals {
            var sum = byVerb[key.verb] ?? (0, Array(repeating: 0, count: total.buckets.count), 0)
            sum.requests += total.requests
            sum.nanoseconds += total.nanoseconds
            for bucket in total.buckets.indices { sum.buckets[bucket] += total.buckets[bucket] }
            byVerb[key.verb] = sum
        }
        text += "# TYPE deputy_request_duration_seconds histogram\n"
        for verb in byVerb.keys.sorted() {
            let total = byVerb[verb]!
            var cumulative = 0
            for (bucket, bound) in Self.bucketBounds.enumerated() {
                cumulative += total.buckets[bucket]
                text += "deputy_request_duration_seconds_bucket{verb=\"\(verb)\",le=\"\(Double(bound) / 1e9)\"} \(cumulative)\n"
            }
            text += "deputy_request_duration_seconds_bucket{verb=\"\(verb)\",le=\"+Inf\"} \(total.requests)\n"
            text += "deputy_request_duration_seconds_sum{verb=\"\(verb)\"} \(Double(total.nanoseconds) / 1e9)\n"
            text += "deputy_request_duration_seconds_count{verb=\"\(verb)\"} \(total.requests)\n"
        }
        return text
    }
}

/// A session's handle on the statistics: its thread's shard, taken on the first request
/// (sessions answer on their connection's event loop), and the slot of the last key.
///
/// Requests are counted when their replies leave, not one by one: the replies of one read
/// are written together, so that is when their time ends, and one reading of the clock
/// (and one turn of the shard's lock) serves all of them. Until then they wait here, in
/// runs of one key and one start.
struct RequestCounter: Sendable {
    private let statistics: RequestStatistics
    private var shard: RequestStatistics.Shard?
    private var slot: Int?
    private var waiting: [Run] = []

    /// Requests of one key that began at one time.
    fileprivate struct Run {
        let key: RequestStatistics.Key
        let start: UInt64
        var count: Int
    }

    init(statistics: RequestStatistics = .shared) {
        self.statistics = statistics
    }

    /// Whether requests wait to be counted.
    var hasWaiting: Bool { !waiting.isEmpty }

    /// Notes a request of `verb` with `result`, begun at `start` (the monotonic clock in
    /// nanoseconds), to count when its reply leaves.
    mutating func answered(verb: String, result: String, startedAt start: UInt64) {
        let key = RequestStatistics.Key(verb: verb, result: result)
        if let last = waiting.indices.last, waiting[last].start == start, waiting[last].key == key {
            waiting[last].count += 1
        } else {
            waiting.append(Run(key: key, start: start, count: 1))
        }
    }

    /// Counts every request noted, as ended at `now` (the monotonic clock in nanoseconds).
    mutating func count(endingAt now: UInt64) {
        guard !waiting.isEmpty else { return }
        let shard = self.shard ?? statistics.currentShard()
        self.shard = shard
        shard.record(waiting, endingAt: now, slot: &slot)
        waiting.removeAll(keepingCapacity: true)
    }
}
