import DeputyProtocol
import Foundation

/// Where the daemon listens and the limits it enforces.
public struct ServerConfiguration: Sendable {
    /// The default TLS port.
    public static let defaultPort = 7636

    /// The TLS listener.
    public var listen: ListenAddress = .tcp(host: "127.0.0.1", port: defaultPort)
    /// An optional plaintext TCP listener, for netcat and local mail servers; loopback only.
    public var plainListen: ListenAddress?
    /// An optional plaintext Unix socket listener.
    public var plainSocket: String?
    /// The limits.
    public var limits = ServerLimits()

    public init() {}

    /// Checks what can be checked before binding: plaintext listeners must be loopback.
    public func validate() throws {
        if let plainListen, !plainListen.isLoopback {
            throw ConfigurationError("the plaintext listener \(plainListen) is not a loopback address; plaintext is allowed on 127.0.0.0/8, ::1 or a Unix socket only")
        }
        if case .unix = listen { throw ConfigurationError("the TLS listener needs a TCP address") }
    }
}

/// The limits of the daemon, each with a flag (see `deputyd serve --help`) and documented
/// in protocol.md.
public struct ServerLimits: Sendable {
    /// Open connections at most; one more is answered `ERR limit` and closed.
    public var maximumConnections = 1_024
    /// Seconds a connection may stay silent (handshake included) before it is closed.
    public var idleTimeout: TimeInterval = 300
    /// The protocol limits: line lengths, arguments, pending requests.
    public var protocolLimits = ProtocolLimits.default
    /// The most records one listing reply holds.
    public var maximumListing = 1_000

    public init() {}
}

/// A configuration that can't work.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
