import Foundation
import Glibc
import Synchronization

/// Mail lookups as Postfix makes them through `socketmap`, against several nodes: one
/// connection kept open, and a request that meets a closed (or refused) connection retried
/// once on a new connection, which goes to the next node, as a local proxy in front of the
/// nodes would send it (docs/cluster.md). A lookup fails when the retry fails too, or when
/// the answer is not the expected one.
final class SocketmapLookups: Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private struct Counts {
        var answered = 0
        var retried = 0
        var failures: [String] = []
        var slowest: Duration = .zero
    }

    private let paths: [String]
    private let request: String
    private let expected: String
    private let counts = Mutex(Counts())
    private let stopped = Atomic(false)
    private let queue = DispatchQueue(label: "deputy.tests.socketmap")

    /// Lookups of `request` (for example `senders boss@example.test`) through the socketmap
    /// sockets at `paths`, each answer compared with `expected`.
    init(paths: [String], request: String, expected: String) {
        self.paths = paths
        self.request = request
        self.expected = expected
    }

    var answered: Int { counts.withLock { $0.answered } }
    var retried: Int { counts.withLock { $0.retried } }
    var failures: [String] { counts.withLock { $0.failures } }
    var slowest: Duration { counts.withLock { $0.slowest } }

    /// Looks up, one request after another, on a thread of its own until ``stop()``.
    func start() {
        queue.async { self.loop() }
    }

    /// Ends the loop after the lookup in progress and waits for it.
    func stop() async {
        end()
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    /// Ends the loop after the lookup in progress, without waiting: for a test that fails
    /// partway, so that the loop does not outlive it.
    func end() {
        stopped.store(true, ordering: .relaxed)
    }

    private func loop() {
        var node = 0
        var descriptor: Int32 = -1
        defer { if descriptor >= 0 { close(descriptor) } }
        while !stopped.load(ordering: .relaxed) {
            let started = ContinuousClock.now
            var answer: String?
            var problem = ""
            for attempt in 0..<2 {
                if descriptor < 0 {
                    if attempt == 1 { node = (node + 1) % paths.count }
                    descriptor = Self.connect(paths[node])
                }
                if descriptor >= 0, let reply = Self.ask(descriptor, request) {
                    answer = reply
                    break
                }
                problem = "node \(node + 1): the connection closed or was refused"
                if descriptor >= 0 { close(descriptor) }
                descriptor = -1
                if attempt == 0 { counts.withLock { $0.retried += 1 } }
            }
            let took = ContinuousClock.now - started
            counts.withLock { counts in
                counts.slowest = max(counts.slowest, took)
                if let answer {
                    if answer == expected {
                        counts.answered += 1
                    } else {
                        counts.failures.append("answered \(answer)")
                    }
                } else {
                    counts.failures.append(problem + " twice")
                }
            }
            // Every node refusing: a failure counted, not a loop that takes a core.
            if answer == nil { usleep(10_000) }
        }
    }

    /// A connected Unix socket, or -1; reads time out after 5 s.
    private static func connect(_ path: String) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return -1
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    /// Sends one netstring request and reads one netstring reply; `nil` when the connection
    /// is closed or broken.
    private static func ask(_ descriptor: Int32, _ request: String) -> String? {
        let payload = Array(request.utf8)
        let bytes = Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                // MSG_NOSIGNAL: a closed peer is an error here, not a SIGPIPE for the test process.
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return nil }
            sent += count
        }
        var length = 0
        while true {
            guard let byte = readByte(descriptor) else { return nil }
            if byte == UInt8(ascii: ":") { break }
            guard let digit = Int(String(UnicodeScalar(byte))), length < 1_000_000 else { return nil }
            length = length * 10 + digit
        }
        var reply: [UInt8] = []
        while reply.count < length {
            guard let byte = readByte(descriptor) else { return nil }
            reply.append(byte)
        }
        guard readByte(descriptor) == UInt8(ascii: ",") else { return nil }
        return String(decoding: reply, as: UTF8.self)
    }

    private static func readByte(_ descriptor: Int32) -> UInt8? {
        var byte: UInt8 = 0
        return read(descriptor, &byte, 1) == 1 ? byte : nil
    }
}
