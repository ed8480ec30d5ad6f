#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Turns a failed connect or a broken connection into a clause a person can act on; the
/// error itself goes into ``DeputyClientError/detail``.
enum SocketFailureDescription {
    static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return reason(failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host name \(error.host) does not resolve to an address" }
            return "the host name \(error.host) has no address"
        }
        if let error = error as? ChannelError, error == .ioOnClosedChannel || error == .alreadyClosed || error == .eof {
            return "the server closed the connection"
        }
        guard let number = (error as? IOError)?.errnoCode else { return String(describing: error) }
        switch number {
        case ECONNREFUSED: return "connection refused; nothing is listening there (is deputyd running, on this address and port?)"
        case ENOENT: return "there is no socket at that path (is deputyd running, with --plain-socket?)"
        case ECONNRESET: return "the server reset the connection"
        case EPIPE: return "the server closed the connection"
        case ETIMEDOUT: return "no answer: the connection timed out"
        case EHOSTUNREACH, ENETUNREACH: return "the host can't be reached from this machine"
        case EACCES, EPERM: return "permission denied"
        default: return String(cString: strerror(number)).lowercased()
        }
    }
}
