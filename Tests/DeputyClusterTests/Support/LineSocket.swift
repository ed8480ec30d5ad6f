import Foundation
import Glibc

/// A plaintext connection to a daemon's Unix socket, for tests that drive real `deputyd`
/// nodes: one request line at a time, the reply read up to its `OK` or `ERR` line.
///
/// Blocking socket calls run on a queue of their own, never on the cooperative pool; a
/// receive timeout bounds every read.
final class LineSocket: @unchecked Sendable {
    struct Closed: Error {}

    private let descriptor: Int32
    private let queue = DispatchQueue(label: "deputy.tests.line-socket")
    private var buffer: [UInt8] = []
    /// The greeting line.
    private(set) var greeting = ""

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Connects to `path` and reads the greeting; `nil` while nothing listens there.
    static func connect(_ path: String) async -> LineSocket? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
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
            return nil
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let client = LineSocket(descriptor: descriptor)
        guard let greeting = try? await client.perform({ try client.readLine() }), greeting.hasPrefix("OK") else { return nil }
        client.greeting = greeting
        return client
    }

    /// Sends `line` and returns the reply's lines, the status line last.
    func send(_ line: String) async throws -> [String] {
        try await perform {
            let bytes = Array((line + "\n").utf8)
            var sent = 0
            while sent < bytes.count {
                // MSG_NOSIGNAL: a node killed under a writer is an error here, not a SIGPIPE for the test process.
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw Closed() }
                sent += count
            }
            var reply: [String] = []
            while true {
                let received = try self.readLine()
                reply.append(received)
                if received.hasPrefix("OK") || received.hasPrefix("ERR") { return reply }
            }
        }
    }

    /// Sends `lines` at once (pipelined) and returns each reply's status line, in order.
    func statuses(of lines: [String]) async throws -> [String] {
        try await perform {
            let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
            var sent = 0
            while sent < bytes.count {
                // MSG_NOSIGNAL: a node killed under a writer is an error here, not a SIGPIPE for the test process.
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw Closed() }
                sent += count
            }
            var statuses: [String] = []
            while statuses.count < lines.count {
                let received = try self.readLine()
                if received.hasPrefix("OK") || received.hasPrefix("ERR") { statuses.append(received) }
            }
            return statuses
        }
    }

    private func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// One line without its newline; runs on ``queue``.
    private func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Closed() }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
