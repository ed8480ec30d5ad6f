@testable import DeputyServer
import Foundation
import Testing

@Suite("Request statistics counted per thread")
struct RequestStatisticsTests {
    @Test("counts from many threads add up in the exposition, with a cumulative histogram per verb")
    func countsAddUp() {
        let statistics = RequestStatistics()
        // Eight workers on dispatch's threads, each counting into its thread's shard, as
        // event loops do.
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let shard = statistics.currentShard()
            var slot: Int?
            for index in 0..<1_000 {
                let key = RequestStatistics.Key(verb: index % 2 == 0 ? "PING" : "QUERY SENDAS", result: worker == 0 && index == 1 ? "denied" : "ok")
                shard.record(key, nanoseconds: index % 4 == 0 ? 30_000 : 10_000, slot: &slot)
            }
        }
        let text = statistics.exposition()
        #expect(text.contains("deputy_requests_total{verb=\"PING\",result=\"ok\"} 4000\n"))
        #expect(text.contains("deputy_requests_total{verb=\"QUERY SENDAS\",result=\"ok\"} 3999\n"))
        #expect(text.contains("deputy_requests_total{verb=\"QUERY SENDAS\",result=\"denied\"} 1\n"))
        // PING: every other request of 4 took 30 µs (index % 4 == 0), the rest 10 µs.
        #expect(text.contains("deputy_request_duration_seconds_bucket{verb=\"PING\",le=\"2.5e-05\"} 2000\n"))
        #expect(text.contains("deputy_request_duration_seconds_bucket{verb=\"PING\",le=\"5e-05\"} 4000\n"))
        #expect(text.contains("deputy_request_duration_seconds_bucket{verb=\"PING\",le=\"+Inf\"} 4000\n"))
        #expect(text.contains("deputy_request_duration_seconds_count{verb=\"QUERY SENDAS\"} 4000\n"))
        #expect(text.contains("# TYPE deputy_request_duration_seconds histogram\n"))
    }

    @Test("a session's requests are counted as their replies leave, each from its own start, and not before")
    func countedWhenRepliesLeave() {
        let statistics = RequestStatistics()
        var counter = RequestCounter(statistics: statistics)
        // A read of 18 lines that began at 1,000 ns, then one of a later read.
        for _ in 0..<16 { counter.answered(verb: "QUERY SENDAS", result: "ok", startedAt: 1_000) }
        counter.answered(verb: "QUERY SENDAS", result: "denied", startedAt: 1_000)
        counter.answered(verb: "PING", result: "ok", startedAt: 1_000)
        counter.answered(verb: "QUERY SENDAS", result: "ok", startedAt: 61_000)
        #expect(counter.hasWaiting)
        #expect(!statistics.exposition().contains("QUERY SENDAS"), "counted before the replies left")
        // The replies leave 100 µs after the first read began, 40 µs after the second.
        counter.count(endingAt: 101_000)
        #expect(!counter.hasWaiting)
        counter.count(endingAt: 900_000)
        let text = statistics.exposition()
        #expect(text.contains("deputy_requests_total{verb=\"QUERY SENDAS\",result=\"ok\"} 17\n"))
        #expect(text.contains("deputy_requests_total{verb=\"QUERY SENDAS\",result=\"denied\"} 1\n"))
        #expect(text.contains("deputy_requests_total{verb=\"PING\",result=\"ok\"} 1\n"))
        #expect(text.contains("deputy_request_duration_seconds_bucket{verb=\"QUERY SENDAS\",le=\"5e-05\"} 1\n"))
        #expect(text.contains("deputy_request_duration_seconds_bucket{verb=\"QUERY SENDAS\",le=\"0.0001\"} 18\n"))
        #expect(text.contains("deputy_request_duration_seconds_sum{verb=\"QUERY SENDAS\"} 0.00174\n"))
        #expect(text.contains("deputy_request_duration_seconds_count{verb=\"PING\"} 1\n"))
    }
}
