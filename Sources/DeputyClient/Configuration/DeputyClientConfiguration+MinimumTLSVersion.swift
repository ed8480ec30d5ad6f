import NIOSSL

extension DeputyClientConfiguration {
    /// The lowest TLS version a client offers: 1.2 or 1.3, nothing older.
    ///
    /// A struct with only these two values rather than swift-nio-ssl's `TLSVersion`, so that a
    /// configuration allowing TLS 1.0 or 1.1 cannot be written.
    public struct MinimumTLSVersion: Hashable, Sendable, CustomStringConvertible {
        /// The swift-nio-ssl version it stands for.
        public let tlsVersion: TLSVersion

        private init(_ tlsVersion: TLSVersion) {
            self.tlsVersion = tlsVersion
        }

        /// TLS 1.2, the default, which `deputyd` requires at least.
        public static let tls12 = MinimumTLSVersion(.tlsv12)

        /// TLS 1.3 only.
        public static let tls13 = MinimumTLSVersion(.tlsv13)

        /// `TLS 1.2` or `TLS 1.3`.
        public var description: String {
            self == .tls13 ? "TLS 1.3" : "TLS 1.2"
        }
    }
}
