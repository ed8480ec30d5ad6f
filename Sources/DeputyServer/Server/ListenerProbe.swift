import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Checks, before the daemon creates anything, that every address it is to listen on can be
/// opened: each TCP address is bound (as the listener will be, with `SO_REUSEADDR`) and let
/// go again, never listened on, so that a client connecting while the daemon starts is
/// refused and retries rather than waiting forever on a socket nobody answers; a Unix
/// socket that another process still serves is refused. A new data
/// directory is not created, nor an organisation in it, for a daemon that could not listen.
///
/// The real listeners bind moments later, so a port taken in between still fails then,
/// with the same ``ListenError``.
public enum ListenerProbe {
    /// Throws for the first address that can't be opened, or is given twice. Port 0 (any
    /// port) always can; `held` is one this daemon already listens on (its health
    /// listener, opened first), checked only for being given twice.
    public static func check(
        _ addresses: [ListenAddress], held: ListenAddress? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ListenError) {
        var seen: Set<ListenAddress> = []
        for address in addresses {
            if case .tcp(_, 0) = address { continue }
            guard seen.insert(address).inserted else {
                throw ListenError(address, reason: "the address is given twice; each listener needs its own", detail: "\(address) twice")
            }
            if address == held { continue }
            if let failure = await probe(address, group: group) { throw failure }
        }
    }

    private static func probe(_ address: ListenAddress, group: any EventLoopGroup) async -> ListenError? {
        switch address {
        case .tcp(let host, let port):
            guard port != 0 else { return nil }
            do {
                try bindWithoutListening(try SocketAddress.makeAddressResolvingHost(host, port: port))
                return nil
            } catch {
                return ListenError(address, error)
            }
        case .unix(let path):
            if let problem = unixPathProblem(path) { return ListenError(address, reason: problem, detail: path) }
            // Connecting tells a live socket from one a crash left behind (refused).
            guard let live = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get() else { return nil }
            try? await live.close()
            return ListenError(
                address, reason: "another program is listening there (another deputyd?); stop it, or choose another path",
                detail: "connected to \(path)"
            )
        }
    }

    /// Why a Unix socket can't be made at `path`, as the listener would find later: too
    /// long a path, no directory for it, or a file that is not a socket in its place (the
    /// listener replaces only a socket, one a crash left behind).
    static func unixPathProblem(_ path: String) -> String? {
        if path.utf8.count > 107 {
            return "the path is longer than the 107 bytes a Unix socket's path may have; choose a shorter one"
        }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var status = stat()
        if stat(directory.isEmpty ? "/" : directory, &status) != 0 {
            return "the socket's directory does not exist"
        }
        if status.st_mode & S_IFMT != S_IFDIR {
            return "the socket's directory is not a directory"
        }
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFSOCK {
            return "a file that is not a socket is there; deputyd replaces only a socket, so move the file or choose another path"
        }
        return nil
    }

    /// Binds a TCP socket to `address` and closes it: bind fails where another socket
    /// listens there, as the listener's would.
    private static func bindWithoutListening(_ address: SocketAddress) throws {
        let family = address.protocol.rawValue
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSockAddr { pointer, size in bind(descriptor, pointer, socklen_t(size)) }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "bind") }
    }
}
