import Foundation
import Glibc

/// A bare TCP socket to a loopback port, for clients that misbehave on purpose: ones that
/// never finish a handshake, never send a newline, or never read.
///
/// Its calls block, so they are only made against a daemon in another process.
final class RawSocket {
    let descriptor: Int32
    private var buffered: [UInt8] = []

    /// Connects to `port` on 127.0.0.1 from `source`, any address of 127.0.0.0/8 (all of
    /// which reach the loopback interface), so that one test can be many clients.
    init(port: Int, source: String = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw TestFailure("bind to \(source): \(reason)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw TestFailure("connect to port \(port): \(reason)")
        }
    }

    deinit { Glibc.close(descriptor) }

    /// Sends every byte, or stops at the first error (the peer closed) or after
    /// `milliseconds` without room to send (a peer that stops reading but stays open);
    /// returns how many went.
    @discardableResult
    func send(_ bytes: [UInt8], milliseconds: Int32 = 30_000) -> Int {
        var sent = 0
        while sent < bytes.count {
            guard waitUntilWritable(milliseconds: milliseconds) else { break }
            let result = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if result < 0, errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
            if result <= 0 { break }
            sent += result
        }
        return sent
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Closes the sending side: the peer reads the end of the input, and may still answer.
    func shutdownWrite() { _ = Glibc.shutdown(descriptor, Int32(SHUT_WR)) }

    /// Sends what fits without waiting; returns how many bytes went (0 when the socket's
    /// buffers are full), or nil when the peer has closed.
    func sendWithoutWaiting(_ bytes: [UInt8]) -> Int? {
        let result = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if result >= 0 { return result }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : nil
    }

    /// Waits up to `milliseconds` for room to send; returns whether there is.
    func waitUntilWritable(milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        var ready = poll(&entry, 1, milliseconds)
        while ready < 0, errno == EINTR { ready = poll(&entry, 1, milliseconds) }
        return ready == 1 && entry.revents & Int16(POLLOUT) != 0
    }

    /// The next line (without its newline), or nil when the peer closed or `milliseconds`
    /// passed first.
    func readLine(milliseconds: Int32 = 10_000) -> String? {
        while true {
            if let end = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<end], as: UTF8.self)
                buffered.removeSubrange(...end)
                return line
            }
            guard let more = receive(milliseconds: milliseconds), !more.isEmpty else { return nil }
            buffered += more
        }
    }

    /// Whether the peer has closed the connection (or reset it), draining whatever it sent
    /// first; waits up to `milliseconds`.
    func isClosed(milliseconds: Int32) -> Bool {
        while true {
            guard let more = receive(milliseconds: milliseconds) else { return false }
            if more.isEmpty { return true }
        }
    }

    /// Bytes available within `milliseconds`: nil when none came, empty at the end of the
    /// stream or on a reset.
    private func receive(milliseconds: Int32) -> [UInt8]? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return nil }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return [] }
        return Array(chunk[..<count])
    }
}
