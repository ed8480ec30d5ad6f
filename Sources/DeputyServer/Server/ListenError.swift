#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// A listener that could not be opened, said in words a person can act on: the address,
/// what is wrong with it, and what to do. The system's own error is kept in ``detail``, for
/// the debug log.
public struct ListenError: Error, CustomStringConvertible, Sendable {
    /// The address that could not be opened.
    public let address: ListenAddress
    /// What is wrong, as a clause: `another program is listening there`.
    public let reason: String
    /// The system's description of the failure.
    public let detail: String

    /// `cannot listen on 127.0.0.1:7636: another program is listening there (...)`.
    public var description: String { "cannot listen on \(address): \(reason)" }

    /// Describes `error`, thrown while binding `address`.
    public init(_ address: ListenAddress, _ error: any Error) {
        self.init(address, reason: Self.reason(for: error, at: address), detail: String(describing: error))
    }

    /// A failure found without a system error, such as a socket another process serves.
    public init(_ address: ListenAddress, reason: String, detail: String) {
        self.address = address
        self.reason = reason
        self.detail = detail
    }

    private static func reason(for error: any Error, at address: ListenAddress) -> String {
        if case SocketAddressError.unknown(let host, _) = error {
            return "the host name \(host) does not resolve to an address of this machine"
        }
        guard let number = (error as? IOError)?.errnoCode else { return String(describing: error) }
        switch (number, address) {
        case (EADDRINUSE, _):
            return "another program is listening there (another deputyd on this port?); stop it, or choose another address"
        case (EACCES, .tcp(_, let port)) where port < 1_024:
            return "permission denied: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability"
        case (EACCES, _):
            return "permission denied"
        case (EADDRNOTAVAIL, _):
            return "no network interface of this machine has that address"
        case (ENOENT, .unix):
            return "the socket's directory does not exist"
        default:
            return String(cString: strerror(number)).lowercased()
        }
    }
}
