import DeputyServer
import CoreFoundation
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The notifier against real datagram sockets standing in for systemd's: what arrives must
/// be exactly what `sd_notify` would send.
@Suite("systemd notification")
struct SystemdNotifierTests {
    @Test("READY=1 and RELOADING arrive as single datagrams, byte for byte, at a socket file")
    func pathSocket() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/notify"
        let systemd = try NotifySocket(address: .path(path))
        defer { systemd.closeSocket() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.destination == .path(path))

        #expect(try notifier.ready())
        #expect(try systemd.receive() == Array("READY=1".utf8))

        #expect(try notifier.reloading(monotonicMicroseconds: 1_234_567_890))
        #expect(try systemd.receive() == Array("RELOADING=1\nMONOTONIC_USEC=1234567890".utf8))

        #expect(try notifier.stopping())
        #expect(try systemd.receive() == Array("STOPPING=1".utf8))
    }

    @Test("an abstract @name socket gets the same bytes")
    func abstractSocket() throws {
        let name = "deputy-notify-test-\(UUID().uuidString)"
        let systemd = try NotifySocket(address: .abstract(name))
        defer { systemd.closeSocket() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.destination == .abstract(name))

        #expect(try notifier.ready())
        #expect(try systemd.receive() == Array("READY=1".utf8))
        #expect(try notifier.reloading(monotonicMicroseconds: 42))
        #expect(try systemd.receive() == Array("RELOADING=1\nMONOTONIC_USEC=42".utf8))
    }

    @Test("RELOADING carries the CLOCK_MONOTONIC time it was sent at, in microseconds")
    func monotonicTime() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/notify"
        let systemd = try NotifySocket(address: .path(path))
        defer { systemd.closeSocket() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])

        let before = Self.monotonicMicroseconds()
        try notifier.reloading()
        let after = Self.monotonicMicroseconds()
        let text = String(decoding: try systemd.receive(), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let value = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst("MONOTONIC_USEC=".count)) : nil })
        #expect(value >= before && value <= after)
    }

    @Test("STATUS keeps to one line, so a status text can't add an assignment")
    func status() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/notify"
        let systemd = try NotifySocket(address: .path(path))
        defer { systemd.closeSocket() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])

        #expect(try notifier.status("serving 3 listeners"))
        #expect(try systemd.receive() == Array("STATUS=serving 3 listeners".utf8))
        #expect(try notifier.status("reloaded\nREADY=1"))
        #expect(try systemd.receive() == Array("STATUS=reloaded READY=1".utf8))
    }

    @Test("without NOTIFY_SOCKET nothing is sent and nothing fails", arguments: [[:], ["NOTIFY_SOCKET": ""]] as [[String: String]])
    func withoutSocket(_ environment: [String: String]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A socket that nothing points at: it must stay empty.
        let systemd = try NotifySocket(address: .path(directory.path + "/notify"))
        defer { systemd.closeSocket() }
        let notifier = SystemdNotifier(environment: environment)

        #expect(!notifier.isEnabled)
        #expect(try notifier.ready() == false)
        #expect(try notifier.reloading() == false)
        #expect(try notifier.stopping() == false)
        #expect(try notifier.status("idle") == false)
        #expect(systemd.isEmpty())
    }

    @Test("a socket that is not there is an error, not a crash")
    func missingSocket() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": directory.path + "/absent"])
        let error = try #require(throws: SystemdNotifierError.self) { try notifier.ready() }
        #expect(error.errno == ENOENT)
        let abstract = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@deputy-nobody-listens-\(UUID().uuidString)"])
        #expect(throws: SystemdNotifierError.self) { try abstract.ready() }
    }

    @Test("unusable addresses are refused", arguments: ["notify", "run/notify", "@", "/" + String(repeating: "x", count: 200)])
    func unusableAddress(_ value: String) {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": value])
        #expect(notifier.isEnabled)
        #expect(throws: SystemdNotifierError.self) { try notifier.ready() }
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// A bound AF_UNIX datagram socket, as systemd keeps one for its services.
struct NotifySocket {
    private let descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ call: String) { description = "\(call): \(String(cString: strerror(errno)))" }
    }

    /// Binds `address` and bounds every receive by thirty seconds, so a message that never
    /// comes fails the test instead of hanging it. (Five were too few for a reload while the
    /// rest of the suite's daemons kept both cores busy.)
    init(address: SystemdNotifier.Destination) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            close(descriptor)
            throw Failure("setsockopt SO_RCVTIMEO")
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let name: [UInt8]
        switch address {
        case .path(let path): name = Array(path.utf8) + [0]
        case .abstract(let abstractName): name = [0] + Array(abstractName.utf8)
        }
        precondition(name.count <= MemoryLayout.size(ofValue: socketAddress.sun_path), "socket name too long for the test")
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw Failure("bind")
        }
    }

    /// The next datagram, whole: the buffer is larger than any message the notifier sends,
    /// and MSG_TRUNC makes recv report a datagram's full length even if it were not.
    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
        guard count >= 0 else { throw Failure("recv") }
        #expect(count <= buffer.count, "datagram larger than the receive buffer")
        return Array(buffer.prefix(min(count, buffer.count)))
    }

    /// True when no datagram is waiting.
    func isEmpty() -> Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK))
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    func closeSocket() {
        close(descriptor)
    }
}

/// A fresh directory under the system's temporary directory, short enough for a socket path.
private struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-notify-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
