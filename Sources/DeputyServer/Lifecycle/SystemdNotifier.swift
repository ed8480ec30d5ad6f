import CoreFoundation
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells systemd how the daemon is doing, by the `sd_notify` protocol: each message is
/// one datagram of `KEY=VALUE` lines sent to the Unix socket that `NOTIFY_SOCKET` names.
///
/// With `Type=notify` in the unit, systemd counts the service as started only when it gets
/// `READY=1`, so units ordered after `deputyd` (and `systemctl start` itself) wait until
/// every listener is bound, instead of racing the daemon's recovery of its data.
///
/// Without `NOTIFY_SOCKET` (the daemon started by hand, in a container, by the tests) every
/// call does nothing. Failures are thrown, never fatal: a daemon that can't reach systemd
/// still serves, and the caller decides whether that is worth a log line.
///
/// The implementation is plain POSIX (`socket`, `sendto`) rather than libsystemd, so that
/// the binary links no library that a minimal host may lack.
public struct SystemdNotifier: Sendable {
    /// Where the messages go: a file system path, or a name in Linux's abstract namespace.
    public enum Destination: Sendable, Equatable {
        /// A socket file, such as `/run/systemd/notify`.
        case path(String)
        /// An abstract socket: `NOTIFY_SOCKET` began with `@`, which stands for the NUL
        /// byte that starts such a name; this is the name after it.
        case abstract(String)
    }

    /// The socket messages go to, or nil when `NOTIFY_SOCKET` is unset or empty.
    public let destination: Destination?

    /// Reads `NOTIFY_SOCKET` from `environment`. The tests pass their own; the daemon
    /// takes its process's.
    ///
    /// A value that is neither an absolute path nor `@name` is kept and reported as an
    /// error by the first message, the way `sd_notify` refuses it, rather than ignored:
    /// otherwise systemd would wait for a `READY=1` that never comes, and the operator
    /// would see only a start timeout.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let value = environment["NOTIFY_SOCKET"], !value.isEmpty else {
            destination = nil
            return
        }
        if value.hasPrefix("@") {
            destination = .abstract(String(value.dropFirst()))
        } else {
            destination = .path(value)
        }
    }

    /// True when there is a socket to notify.
    public var isEnabled: Bool { destination != nil }

    /// The service has started: every listener is bound and the data is recovered.
    @discardableResult
    public func ready() throws -> Bool {
        try notify("READY=1")
    }

    /// The service begins to reload its configuration (on SIGHUP); `READY=1` ends it.
    /// systemd wants the time of the request on `CLOCK_MONOTONIC`, so that it can tell
    /// this reload from one it asked for earlier.
    @discardableResult
    public func reloading(monotonicMicroseconds: UInt64 = SystemdNotifier.monotonicMicroseconds()) throws -> Bool {
        try notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds)")
    }

    /// The service has begun its graceful shutdown.
    @discardableResult
    public func stopping() throws -> Bool {
        try notify("STOPPING=1")
    }

    /// A line for `systemctl status` to show. Line breaks become spaces: each line of a
    /// message is an assignment of its own, so a newline would end the status early and
    /// could smuggle in another assignment (`READY=1`).
    @discardableResult
    public func status(_ text: String) throws -> Bool {
        let oneLine = String(text.map { $0.isNewline ? " " : $0 })
        return try notify("STATUS=\(oneLine)")
    }

    /// Sends `message` (one or more `KEY=VALUE` lines) as one datagram.
    ///
    /// - Returns: false when there is no `NOTIFY_SOCKET`, true when the message was sent.
    /// - Throws: `SystemdNotifierError` when the address is unusable or the send fails.
    @discardableResult
    public func notify(_ message: String) throws -> Bool {
        guard let destination else { return false }
        var (address, length) = try Self.socketAddress(destination)

        let descriptor = socket(AF_UNIX, Self.datagramSocketType, 0)
        guard descriptor >= 0 else { throw SystemdNotifierError("can't create a socket for NOTIFY_SOCKET", errno: errno) }
        defer { close(descriptor) }

        let bytes = Array(message.utf8)
        while true {
            let sent = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                        sendto(descriptor, buffer.baseAddress, buffer.count, Self.sendFlags, socketAddress, length)
                    }
                }
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw SystemdNotifierError("can't send to NOTIFY_SOCKET \(Self.describe(destination))", errno: errno)
            }
            // A datagram goes whole or not at all; a short count would mean a message
            // systemd can't parse, so it is an error, not something to resend.
            guard sent == bytes.count else {
                throw SystemdNotifierError("sent \(sent) of \(bytes.count) bytes to NOTIFY_SOCKET \(Self.describe(destination))", errno: nil)
            }
            return true
        }
    }

    /// Now on `CLOCK_MONOTONIC`, in microseconds: the clock systemd reads `MONOTONIC_USEC` on.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    // MARK: - Addresses

    /// The `sockaddr_un` for `destination` and the length to pass with it. An abstract
    /// name's length is exact (its bytes after the leading NUL may themselves hold NULs and
    /// are not terminated); a path's includes its terminating NUL.
    static func socketAddress(_ destination: Destination) throws -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let name: [UInt8]
        let terminator: Int
        switch destination {
        case .path(let path):
            guard path.hasPrefix("/") else {
                throw SystemdNotifierError("NOTIFY_SOCKET \(path) is neither an absolute path nor an abstract @name", errno: nil)
            }
            name = Array(path.utf8)
            terminator = 1
        case .abstract(let abstractName):
            guard !abstractName.isEmpty else { throw SystemdNotifierError("NOTIFY_SOCKET @ names no abstract socket", errno: nil) }
            name = [0] + Array(abstractName.utf8)
            terminator = 0
        }
        guard name.count + terminator <= capacity else {
            throw SystemdNotifierError("NOTIFY_SOCKET \(describe(destination)) is longer than a Unix socket address (\(capacity) bytes)", errno: nil)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        return (address, socklen_t(pathOffset + name.count + terminator))
    }

    private static func describe(_ destination: Destination) -> String {
        switch destination {
        case .path(let path): path
        case .abstract(let name): "@" + name
        }
    }

    // Close-on-exec keeps the socket out of any process the daemon might start; no signal
    // on a broken peer, so that a restarted systemd can't kill the daemon with SIGPIPE.
    #if canImport(Glibc) || canImport(Musl)
    private static let datagramSocketType = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let datagramSocketType = SOCK_DGRAM
    private static let sendFlags: Int32 = 0
    #endif
}

/// Why a message to systemd could not be sent.
public struct SystemdNotifierError: Error, CustomStringConvertible, Equatable {
    /// What was attempted, and where.
    public let message: String
    /// The `errno` of the failed call, when a call failed.
    public let errno: Int32?

    public init(_ message: String, errno: Int32?) {
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(String(cString: strerror(errno)))"
    }
}
