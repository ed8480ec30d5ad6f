extension DeputyTrust {
    /// A server seen for the first time under trust on first use, for the decision to trust it.
    ///
    /// A command-line client would show something like:
    ///
    /// ```
    /// The authenticity of directory.example.org:7636 can't be established.
    /// Certificate fingerprint: sha256:3A:7F:...:C2
    /// Trust it and remember it in /home/ann/.deputy/known_hosts? (yes/no)
    /// ```
    public struct FirstContact: Hashable, Sendable {
        /// The server as `host:port` (IPv6 addresses in brackets), as it will be remembered.
        public let host: String

        /// The fingerprint of the certificate the server presented.
        public let fingerprint: Fingerprint

        /// The known-hosts file the fingerprint will be written to if accepted.
        public let knownHostsPath: String

        /// Creates a first-contact description.
        public init(host: String, fingerprint: Fingerprint, knownHostsPath: String) {
            self.host = host
            self.fingerprint = fingerprint
            self.knownHostsPath = knownHostsPath
        }
    }
}
