import DeputyMailAdapters
import DeputyBenchData
import Foundation
import Histogram
import NIOCore
import NIOPosix

/// The `socketmap` workload of `deputy-bench load`: Postfix socketmap lookups (`senders`)
/// over plaintext connections to the daemon's socketmap listener, `depth` netstrings written
/// at once on each connection before their replies are read.
enum SocketmapLoad {
    /// Lookups for one connection: `senders` of random users' addresses and aliases.
    static func requests(dataset: BenchDataset, connection: Int) -> [String] {
        var random = BenchRandom(seed: UInt64(0x50C3 + connection))
        return (0..<4_096).map { _ in
            let user = random.below(dataset.users)
            return "senders " + (random.below(2) == 0 ? BenchDataset.user(user) : BenchDataset.alias(user))
        }
    }

    /// One connection's share, closed loop, until `end`.
    static func drive(
        host: String, port: Int, requests: [String], depth: Int, warmUp: ContinuousClock.Instant, end: ContinuousClock.Instant
    ) async throws -> ConnectionResult {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let netstrings = requests.map { ByteBuffer(string: "\($0.utf8.count):\($0),") }
        return try await channel.executeThenClose { inbound, outbound in
            var result = ConnectionResult()
            var replies = inbound.makeAsyncIterator()
            var pending = ByteBuffer()
            var next = 0
            while true {
                let sent = ContinuousClock.now
                guard sent < end else { break }
                var batch = ByteBuffer()
                for _ in 0..<depth {
                    batch.writeImmutableBuffer(netstrings[next])
                    next = (next + 1) % netstrings.count
                }
                try await outbound.write(batch)
                var answered = 0
                var failed = 0
                while answered < depth {
                    if let payload = nextNetstring(&pending) {
                        answered += 1
                        // OK and NOTFOUND are answers; TEMP and PERM are failures.
                        if !(payload.hasPrefix("OK") || payload.hasPrefix("NOTFOUND")) {
                            failed += 1
                            result.firstError = result.firstError ?? payload
                        }
                        continue
                    }
                    guard var more = try await replies.next() else { throw BenchFailure("the socketmap listener closed the connection") }
                    pending.writeBuffer(&more)
                }
                guard sent >= warmUp else { continue }
                let latency = UInt64(max(0, (ContinuousClock.now - sent).seconds * 1e9))
                result.answers += depth
                result.errors += failed
                result.latencies.record(latency, count: UInt64(depth))
            }
            return result
        }
    }

    /// The payload of the first whole netstring in `buffer`, consumed; `nil` until one has
    /// arrived whole.
    static func nextNetstring(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let colon = view.firstIndex(of: UInt8(ascii: ":")),
            let length = Int(String(decoding: view[view.startIndex..<colon], as: UTF8.self))
        else { return nil }
        let start = colon + 1
        guard view.endIndex >= start + length + 1 else { return nil }
        let payload = String(decoding: view[start..<(start + length)], as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: start + length + 1 - view.startIndex)
        return payload
    }
}
