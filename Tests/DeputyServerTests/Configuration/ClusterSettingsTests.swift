import DeputyServer
import Foundation
import Testing

/// The `cluster-*` settings: off unless `cluster-hosts` is given, then checked.
@Suite("Cluster settings")
struct ClusterSettingsTests {
    private func settings(_ flags: [Setting: [String]], environment: [String: String] = [:]) throws(SettingsError) -> DaemonSettings {
        try DaemonSettings(SettingValues(flags: flags, environment: environment))
    }

    @Test("Without cluster-hosts the daemon keeps one node's data directory")
    func offByDefault() throws {
        #expect(try settings([:]).cluster == nil)
    }

    @Test("Hosts with and without ports, the defaults, and the node's name")
    func parsed() throws {
        let cluster = try #require(try settings(
            [.clusterHosts: ["db1.example.org", "db2.example.org:5433"], .clusterPasswordFile: ["/etc/deputy/pg"], .clusterNode: ["mx1"]]
        ).cluster)
        #expect(cluster.hosts.map(\.description) == ["db1.example.org:5432", "db2.example.org:5433"])
        #expect(cluster.database == "deputy" && cluster.user == "deputy")
        #expect(cluster.passwordFile == "/etc/deputy/pg")
        #expect(cluster.nodeName == "mx1")
        let fromEnvironment = try #require(try settings([:], environment: ["DEPUTY_CLUSTER_HOSTS": "a.example, b.example", "DEPUTY_CLUSTER_PASSWORD_FILE": "/p"]).cluster)
        #expect(fromEnvironment.hosts.map(\.name) == ["a.example", "b.example"])
    }

    @Test("An address instead of a host name, a bad port, a missing password file and a bad node name are refused, naming the setting")
    func refused() {
        func error(_ flags: [Setting: [String]]) -> String {
            do {
                _ = try settings(flags)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error([.clusterHosts: ["10.0.0.5"], .clusterPasswordFile: ["/p"]]).contains("--cluster-hosts: 10.0.0.5 is an address"))
        #expect(error([.clusterHosts: ["::1"], .clusterPasswordFile: ["/p"]]).contains("--cluster-hosts"))
        #expect(error([.clusterHosts: ["db:99999"], .clusterPasswordFile: ["/p"]]).contains("expected HOST or HOST:PORT"))
        #expect(error([.clusterHosts: ["db"]]).contains("cluster-password-file"))
        #expect(error([.clusterHosts: ["db"], .clusterPasswordFile: ["/p"], .clusterNode: ["no spaces"]]).contains("--cluster-node"))
    }
}
