import DeputyClient
import DeputyProtocol
import Foundation

/// The defaults a person keeps in `~/.config/deputy/config.json` so daily use needs no flags:
///
/// ```json
/// { "server": "directory.example.org:7636", "user": "ann@example.org",
///   "ca": "/etc/deputy/ca.pem", "passwordFile": "/home/ann/.config/deputy/password" }
/// ```
///
/// Every key is optional; a flag given on the command line wins. JSON because Foundation
/// reads it without another dependency, and the file holds a handful of flat keys. A key
/// that is not one of ``keys``, or a value of the wrong kind, is refused with the file, the
/// line and the key it most likely meant, rather than ignored.
struct Profile: Sendable {
    var server: String?
    var user: String?
    var ca: String?
    var fingerprint: Fingerprint?
    var passwordFile: String?
    var knownHosts: String?
    var output: OutputFormat?
    /// The file the profile was read from; `nil` when there was none.
    var path: String?

    /// The keys a profile may hold.
    static let keys = ["server", "user", "ca", "fingerprint", "passwordFile", "knownHosts", "output"]

    /// The profile to read: `--profile`, else `$DEPUTY_CONFIG`, else
    /// `$XDG_CONFIG_HOME/deputy/config.json`, else `~/.config/deputy/config.json`. Only the
    /// last two may be missing; a profile named on purpose must be there.
    static func location(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> (path: String, named: Bool) {
        if let flag { return (flag, true) }
        if let path = environment["DEPUTY_CONFIG"], !path.isEmpty { return (path, true) }
        return ((configDirectory(environment: environment) as NSString).appendingPathComponent("config.json"), false)
    }

    static func configDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let base = environment["XDG_CONFIG_HOME"], !base.isEmpty { return (base as NSString).appendingPathComponent("deputy") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".config/deputy")
    }

    /// The profile at `path`: empty when the file is missing and was not `named`; else
    /// checked key by key, in the order of the file, so the first mistake is reported.
    static func load(path: String, named: Bool) throws -> Profile {
        guard named || FileManager.default.fileExists(atPath: path) else { return Profile() }
        let data = try LocalFile.read(path, "the profile")
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            let text = String(decoding: data, as: UTF8.self)
            let position = TextPosition.of(parserMessage: reason, in: text).map { "\($0.line):\($0.column)" } ?? "1"
            throw CLIError(.configuration, "\(path):\(position): not valid JSON (\(reason))")
        }
        guard let values = object as? [String: Any] else {
            throw CLIError(.configuration, "\(path):1: a profile is one JSON object, like {\"server\": \"127.0.0.1:7636\", \"user\": \"admin@example.test\"}")
        }
        let text = String(decoding: data, as: UTF8.self)
        var profile = Profile(path: path)
        for key in values.keys.sorted(by: { line(of: $0, in: text) < line(of: $1, in: text) }) {
            let place = "\(path):\(line(of: key, in: text))"
            guard keys.contains(key) else {
                let hint = NearestWord.among(keys, to: key).map { "did you mean \"\($0)\"?" } ?? "the keys are \(keys.joined(separator: ", "))"
                throw CLIError(.configuration, "\(place): unknown key \"\(key)\"; \(hint)")
            }
            if values[key] is NSNull { continue }
            guard let value = values[key] as? String else { throw CLIError(.configuration, "\(place): \"\(key)\" must be a string, in quotes") }
            try profile.set(key, value, at: place)
        }
        return profile
    }

    private mutating func set(_ key: String, _ value: String, at place: String) throws {
        switch key {
        case "server": server = value
        case "user": user = value
        case "ca": ca = value
        case "passwordFile": passwordFile = value
        case "knownHosts": knownHosts = value
        case "fingerprint":
            guard let pin = Fingerprint(value) else {
                throw CLIError(.configuration, "\(place): \"fingerprint\" is not a certificate fingerprint; expected \(Fingerprint.expectedForm)")
            }
            fingerprint = pin
        default:
            guard let format = OutputFormat(rawValue: value) else {
                throw CLIError(.configuration, "\(place): \"output\" must be \"table\", \"json\" or \"plain\", not \"\(value)\"")
            }
            output = format
        }
    }

    /// The line where `key` is written as a key of the object; 1 when it can't be found
    /// (a key written with escapes).
    static func line(of key: String, in text: String) -> Int {
        var rest = text.startIndex..<text.endIndex
        while let found = text.range(of: "\"\(key)\"", range: rest) {
            if text[found.upperBound...].first(where: { !$0.isWhitespace }) == ":" {
                return text[..<found.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            }
            rest = found.upperBound..<text.endIndex
        }
        return 1
    }
}
