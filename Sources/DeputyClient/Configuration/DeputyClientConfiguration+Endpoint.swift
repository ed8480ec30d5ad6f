import NIOCore

extension DeputyClientConfiguration {
    /// Where a server listens: a TCP host and port with TLS, a loopback TCP port in plaintext,
    /// or a Unix socket in plaintext.
    ///
    /// ```swift
    /// Endpoint.tls(host: "directory.example.org")          // port 7636
    /// Endpoint.plaintext(host: "127.0.0.1", port: 7637)
    /// Endpoint.unixSocket(path: "/run/deputyd/deputyd.sock")
    /// try Endpoint(parsing: "directory.example.org:7636")   // see init(parsing:)
    /// ```
    ///
    /// Plaintext TCP is refused when connecting unless the host is `localhost` or a loopback
    /// address, because a password sent with `BIND` would cross the network in the clear.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        /// The port `deputyd` listens on by default.
        public static let defaultPort = 7636

        enum Address: Hashable, Sendable {
            case tcp(host: String, port: Int)
            case unixSocket(path: String)
        }

        let address: Address

        /// Whether the connection is wrapped in TLS.
        public let usesTLS: Bool

        init(address: Address, usesTLS: Bool) {
            self.address = address
            self.usesTLS = usesTLS
        }

        /// A TCP endpoint with TLS. `host` is a name or an IP address; brackets around an IPv6
        /// address are optional.
        public static func tls(host: String, port: Int = Self.defaultPort) -> Endpoint {
            Endpoint(address: .tcp(host: Self.unbracketed(host), port: port), usesTLS: true)
        }

        /// A TCP endpoint without TLS, for `localhost` and loopback addresses only.
        public static func plaintext(host: String, port: Int = Self.defaultPort) -> Endpoint {
            Endpoint(address: .tcp(host: Self.unbracketed(host), port: port), usesTLS: false)
        }

        /// A Unix socket, without TLS.
        public static func unixSocket(path: String) -> Endpoint {
            Endpoint(address: .unixSocket(path: path), usesTLS: false)
        }

        // MARK: - Components

        /// The host name or IP address of a TCP endpoint; `nil` for a Unix socket.
        public var host: String? {
            if case .tcp(let host, _) = self.address { return host }
            return nil
        }

        /// The port of a TCP endpoint; `nil` for a Unix socket.
        public var port: Int? {
            if case .tcp(_, let port) = self.address { return port }
            return nil
        }

        /// The path of a Unix socket endpoint; `nil` for TCP.
        public var unixSocketPath: String? {
            if case .unixSocket(let path) = self.address { return path }
            return nil
        }

        /// `host:port`, with an IPv6 address in brackets (`[::1]:7636`); `nil` for a Unix
        /// socket. This is how the server is named in known-hosts files.
        public var authority: String? {
            guard case .tcp(let host, let port) = self.address else { return nil }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }

        /// Whether the endpoint cannot leave this machine: a Unix socket, `localhost`, an
        /// address in 127.0.0.0/8, or `::1`.
        public var isLocal: Bool {
            switch self.address {
            case .unixSocket:
                return true
            case .tcp(let host, _):
                if host.lowercased() == "localhost" { return true }
                guard let address = try? SocketAddress(ipAddress: host, port: 0), let text = address.ipAddress else {
                    return false
                }
                switch address {
                case .v4: return text.hasPrefix("127.")
                case .v6: return text == "::1"
                case .unixDomainSocket: return true
                }
            }
        }

        private static func unbracketed(_ host: String) -> String {
            guard host.hasPrefix("["), host.hasSuffix("]"), host.count >= 2 else { return host }
            return String(host.dropFirst().dropLast())
        }

        /// The endpoint in a form ``init(parsing:)`` reads back: `host:port` for TLS,
        /// `deputy+plain://host:port` for plaintext TCP, `unix:/path` for a Unix socket.
        public var description: String {
            switch self.address {
            case .unixSocket(let path):
                return "unix:\(path)"
            case .tcp:
                let authority = self.authority ?? ""
                return self.usesTLS ? authority : "deputy+plain://\(authority)"
            }
        }
    }
}
