import Foundation

/// The defaults a person keeps in `~/.config/deputy/config.json` so daily use needs no flags:
///
/// ```json
/// { "server": "directory.example.org:7636", "user": "ann@example.org",
///   "ca": "/etc/deputy/ca.pem", "passwordFile": "/home/ann/.config/deputy/password" }
/// ```
///
/// Every key is optional; a flag given on the command line wins. JSON because Foundation
/// reads it without another dependency, and the file holds a handful of flat keys.
struct Profile: Codable, Sendable {
    var server: String?
    var user: String?
    var ca: String?
    var fingerprint: String?
    var passwordFile: String?
    var knownHosts: String?
    var output: String?

    /// `$DEPUTY_CONFIG`, else `$XDG_CONFIG_HOME/deputy/config.json`, else `~/.config/deputy/config.json`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["DEPUTY_CONFIG"], !path.isEmpty { return path }
        return (configDirectory(environment: environment) as NSString).appendingPathComponent("config.json")
    }

    static func configDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let base = environment["XDG_CONFIG_HOME"], !base.isEmpty { return (base as NSString).appendingPathComponent("deputy") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".config/deputy")
    }

    /// The profile at `path`; an empty profile when there is no file; an error naming the
    /// file when it does not parse.
    static func load(path: String) throws -> Profile {
        guard FileManager.default.fileExists(atPath: path) else { return Profile() }
        do {
            return try JSONDecoder().decode(Profile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIError(.usage, "\(path) is not a valid profile: \(error.localizedDescription)")
        }
    }
}
