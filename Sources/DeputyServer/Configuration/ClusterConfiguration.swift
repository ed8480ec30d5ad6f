import Foundation

/// Where the shared log of cluster mode lives, checked: the `cluster-*` settings.
///
/// Without `cluster-hosts` the daemon keeps the directory in its data directory alone, as
/// it always has.
public struct ClusterConfiguration: Sendable, Equatable {
    /// A PostgreSQL server, by the host name its certificate carries.
    public struct Host: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var port: Int
        public var description: String { "\(name):\(port)" }
    }

    public var hosts: [Host]
    public var database: String
    public var user: String
    /// The file holding the password; read when the daemon starts, never logged.
    public var passwordFile: String
    public var certificateAuthorities: String?
    /// This node's name in the log.
    public var nodeName: String

    /// The configuration the settings give, `nil` when `cluster-hosts` is not set.
    init?(_ values: SettingValues) throws(SettingsError) {
        let texts = values.list(.clusterHosts)
        guard !texts.isEmpty else { return nil }
        var hosts: [Host] = []
        for text in texts {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.count == 1 || Int(parts[1]).map({ (1...65_535).contains($0) }) == true else {
                throw values.error(.clusterHosts, "expected HOST or HOST:PORT, not \(SettingValues.quoted(text))")
            }
            let name = String(parts[0])
            // postgres-nio checks a certificate's name only against a host name: an
            // address would be accepted with any certificate the authorities signed.
            guard !Self.isAddress(name) else {
                throw values.error(.clusterHosts, "\(name) is an address; give the host name that the server's certificate carries, so that it is checked")
            }
            hosts.append(Host(name: name, port: parts.count == 2 ? Int(parts[1])! : 5432))
        }
        self.hosts = hosts
        database = values.text(.clusterDatabase) ?? "deputy"
        user = values.text(.clusterUser) ?? "deputy"
        guard let passwordFile = values.text(.clusterPasswordFile) else {
            throw values.error(.clusterHosts, "cluster mode needs cluster-password-file, the file holding the PostgreSQL password")
        }
        self.passwordFile = passwordFile
        certificateAuthorities = values.text(.clusterCA)
        nodeName = values.text(.clusterNode) ?? ProcessInfo.processInfo.hostName
        guard !nodeName.isEmpty, nodeName.count <= 63, nodeName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw values.error(.clusterNode, "a node name is 1 to 63 letters, digits, '-', '_' or '.', not \(SettingValues.quoted(nodeName))")
        }
    }

    private static func isAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1 || name.hasPrefix("[")
    }
}
