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
            counts.withLock { counts in
                let index: Int
                if let cached = slot, cached < counts.keys.count, counts.keys[cached] == key {
                    index = cached
                } else {
                    index = counts.slot(for: key)
                    slot = index
                }
                counts.requests[index] &+= 1
                counts.nanoseconds[index] &+= max(0, elapsed)
                var bucket = 0
                let bounds = RequestStatistics.bucketBounds
                while bucket < bounds.count, elapsed > bounds[bucket] { bucket += 1 }
                counts.buckets[index * (bounds.count + 1) + bucket] &+= 1
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
struct RequestCounter: Sendable {
    private var shard: RequestStatistics.Shard?
    private var slot: Int?

    mutating func record(verb: String, result: String, nanoseconds: Int64) {
        let shard = self.shard ?? RequestStatistics.shared.currentShard()
        self.shard = shard
        shard.record(RequestStatistics.Key(verb: verb, result: result), nanoseconds: nanoseconds, slot: &slot)
    }
}
