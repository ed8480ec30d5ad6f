import NIOCore
import NIOPosix

/// Checks, before the daemon creates anything, that every address it is to listen on can be
/// opened: each TCP address is bound (as the listener will be, with `SO_REUSEADDR`) and let
/// go again, and a Unix socket that another process still serves is refused. A new data
/// directory is not created, nor an organisation in it, for a daemon that could not listen.
///
/// The real listeners bind moments later, so a port taken in between still fails then,
/// with the same ``ListenError``.
public enum ListenerProbe {
    /// Throws for the first address that can't be opened. Port 0 (any port) always can.
    public static func check(_ addresses: [ListenAddress], group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(ListenError) {
        // All held until the end, so that one address given twice is found too.
        var held: [any Channel] = []
        var failure: ListenError?
        for address in addresses {
            failure = await probe(address, holding: &held, group: group)
            if failure != nil { break }
        }
        for channel in held { try? await channel.close() }
        if let failure { throw failure }
    }

    private static func probe(_ address: ListenAddress, holding held: inout [any Channel], group: any EventLoopGroup) async -> ListenError? {
        switch address {
        case .tcp(let host, let port):
            guard port != 0 else { return nil }
            do {
                held.append(try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: port).get())
                return nil
            } catch {
                return ListenError(address, error)
            }
        case .unix(let path):
            // Connecting tells a live socket from one a crash left behind (refused).
            guard let live = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get() else { return nil }
            try? await live.close()
            return ListenError(
                address, reason: "another program is listening there (another deputyd?); stop it, or choose another path",
                detail: "connected to \(path)"
            )
        }
    }
}
