#if canImport(Glibc)
import Glibc
#endif

/// A blocking stream socket with a deadline on every read and write.
struct Connection {
    struct Failure: Error {
        let reason: String
    }

    private let descriptor: Int32
    private final class Buffer {
        var bytes: [UInt8] = []
    }
    private let buffer = Buffer()

    static func open(_ endpoint: DovecotAuthClient.Endpoint, deadline: Double) -> Result<Connection, Failure> {
        switch endpoint {
        case .unix(let path):
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { return .failure(Failure(reason: "socket: \(Self.error())")) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                _ = Glibc.close(descriptor)
                return .failure(Failure(reason: "the socket path \(path) is too long"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else {
                let reason = Self.error()
                _ = Glibc.close(descriptor)
                return .failure(Failure(reason: "can't connect to deputyd at \(path): \(reason)"))
            }
            return .success(Connection(descriptor: descriptor))
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
                return .failure(Failure(reason: "\(host) is not an IP address"))
            }
            defer { freeaddrinfo(list) }
            let descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { return .failure(Failure(reason: "socket: \(Self.error())")) }
            guard connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                let reason = Self.error()
                _ = Glibc.close(descriptor)
                return .failure(Failure(reason: "can't connect to deputyd at \(host):\(port): \(reason)"))
            }
            return .success(Connection(descriptor: descriptor))
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Writes all of `text`; false when the peer closed or the deadline passed.
    func write(_ text: String, deadline: Double) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            guard wait(for: Int16(POLLOUT), deadline: deadline) else { return false }
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// The next line without its newline; nil when the peer closed, the deadline passed or a
    /// line grew past 64 KiB.
    func readLine(deadline: Double) -> String? {
        while true {
            if let newline = buffer.bytes.firstIndex(of: 10) {
                let line = String(decoding: buffer.bytes[..<newline], as: UTF8.self)
                buffer.bytes.removeSubrange(...newline)
                return line
            }
            guard buffer.bytes.count < 65_536, wait(for: Int16(POLLIN), deadline: deadline) else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4_096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.bytes += chunk[..<count]
        }
    }

    private func wait(for events: Int16, deadline: Double) -> Bool {
        while true {
            let left = deadline - DovecotAuthClient.now()
            guard left > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let result = poll(&entry, 1, Int32(min(left * 1_000, 60_000)) + 1)
            if result < 0, errno == EINTR { continue }
            return result > 0
        }
    }

    private static func error() -> String {
        String(cString: strerror(errno))
    }
}
