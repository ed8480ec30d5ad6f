extension KnownHosts {
    /// One line of a known-hosts file: a server and its remembered fingerprint.
    public struct Entry: Hashable, Sendable {
        /// The server as `host:port` (IPv6 addresses in brackets), lowercased.
        public let host: String

        /// The fingerprint of the certificate accepted for it.
        public let fingerprint: Fingerprint

        /// Creates an entry; `host` is lowercased.
        public init(host: String, fingerprint: Fingerprint) {
            self.host = KnownHosts.normalised(host)
            self.fingerprint = fingerprint
        }

        /// The entry as written in the file, without a terminator.
        var line: String {
            "\(self.host) \(self.fingerprint)"
        }
    }
}
