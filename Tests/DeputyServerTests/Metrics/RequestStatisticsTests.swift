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
}
