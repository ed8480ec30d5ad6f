import Foundation

/// A private Postfix for the tests: its own configuration and queue directory under /tmp,
/// and a master process that runs only Unix-socket services, so no network port is opened.
/// Its smtpd services listen on Unix sockets in the queue's `public/` directory.
struct PostfixInstance {
    let directory: String
    var queue: String { directory + "/queue" }

    /// A configuration directory with `main.cf` holding `settings` after the basics;
    /// enough for postmap.
    static func configuration(_ settings: [String] = []) throws -> PostfixInstance {
        // Short, since Unix socket paths are limited to about 100 bytes.
        let directory = "/tmp/deputy-pf-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory + "/queue", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let main = [
            "compatibility_level = 3.6",
            "queue_directory = \(directory)/queue",
            "data_directory = \(directory)/data",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = mx.example.test",
            "mydomain = example.test",
            "mydestination =",
            "local_recipient_maps =",
            "alias_maps =",
            "alias_database =",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
        ] + settings
        try (main.joined(separator: "\n") + "\n").write(toFile: directory + "/main.cf", atomically: true, encoding: .utf8)
        return PostfixInstance(directory: directory)
    }

    /// Writes `master.cf`: Debian's services of type `unix` only, plus `services`.
    func writeMaster(services: [String]) throws {
        let stock = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
        var lines: [String] = []
        var skipping = false
        for line in stock.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, !first.isWhitespace, first != "#" {
                let fields = line.split(whereSeparator: \.isWhitespace)
                skipping = fields.count > 1 && fields[1].hasPrefix("inet")
            }
            if !skipping { lines.append(String(line)) }
        }
        try ((lines + services).joined(separator: "\n") + "\n").write(toFile: directory + "/master.cf", atomically: true, encoding: .utf8)
    }

    /// Starts the master and waits (bounded) until `socket` exists in `public/`.
    func start(waitingFor socket: String) async throws {
        try? FileManager.default.setAttributes([.ownerAccountName: "postfix"], ofItemAtPath: directory + "/data")
        let output = try await ExternalTool.run("postfix", ["-c", directory, "start"])
        guard output.status == 0 else { throw TestFailure("postfix start failed: \(output.stderr)") }
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: queue + "/public/" + socket) {
            guard ContinuousClock.now < deadline else { throw TestFailure("postfix did not create public/\(socket)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops the master, if it runs, and removes everything.
    func stop() async {
        _ = try? await ExternalTool.run("postfix", ["-c", directory, "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `postmap -c <dir> -q <key> <table>`.
    func query(_ key: String, _ table: String) async throws -> ExternalTool.Output {
        try await ExternalTool.run("postmap", ["-c", directory, "-q", key, table])
    }

    /// `postmap -c <dir> -q - <table>` with `keys` on standard input.
    func query(keys: [String], _ table: String) async throws -> ExternalTool.Output {
        try await ExternalTool.run("postmap", ["-c", directory, "-q", "-", table], input: keys.map { $0 + "\n" }.joined())
    }
}
