import Foundation

/// A known-hosts file for trust on first use, in the manner of ssh's `known_hosts`.
///
/// Each line names a server and the fingerprint of the certificate it presented the first time
/// it was accepted; `#` starts a comment line:
///
/// ```
/// # deputy known hosts
/// directory.example.org:7636 sha256:3A:7F:...:C2
/// [2001:db8::5]:7636 sha256:91:0B:...:4E
/// ```
///
/// Hosts are written as ``DeputyClientConfiguration/Endpoint/authority`` (`host:port`, IPv6
/// addresses in brackets) and compared ignoring ASCII case. A missing file has no entries; it
/// is created, with its directory, on the first ``remember(_:for:)``. Updates replace the file
/// atomically, keeping comments and other entries.
///
/// Reading and writing block on file I/O; call these methods from a task, never from an event
/// loop. ``DeputyConnection`` does so while connecting.
public struct KnownHosts: Hashable, Sendable {
    /// The file's path.
    public let path: String

    /// A known-hosts file at `path`, which need not exist yet.
    public init(path: String) {
        self.path = path
    }

    // MARK: - Reading

    /// Every entry, in file order.
    ///
    /// - Throws: ``DeputyClientError`` with code `invalidTrustConfiguration` if the file cannot
    ///   be read or a line is malformed (the message gives the line number).
    public func entries() throws(DeputyClientError) -> [Entry] {
        var entries: [Entry] = []
        for (index, line) in try self.readLines().enumerated() {
            switch try self.parse(line, number: index + 1) {
            case .entry(let entry): entries.append(entry)
            case .comment: break
            }
        }
        return entries
    }

    /// The remembered fingerprint for `host` (`host:port`), or `nil` if the server is unknown.
    public func fingerprint(for host: String) throws(DeputyClientError) -> Fingerprint? {
        let key = Self.normalised(host)
        return try self.entries().first { $0.host == key }?.fingerprint
    }

    // MARK: - Writing

    /// Remembers `fingerprint` for `host` (`host:port`), replacing any entry it had.
    ///
    /// - Throws: ``DeputyClientError`` with code `invalidTrustConfiguration` if the existing
    ///   file is malformed, or `knownHostsWriteFailed` if it cannot be written.
    public func remember(_ fingerprint: Fingerprint, for host: String) throws(DeputyClientError) {
        let entry = Entry(host: host, fingerprint: fingerprint)
        var lines = try self.linesKeeping { $0 != entry.host }
        lines.append(entry.line)
        try self.write(lines)
    }

    /// Removes the entry for `host` (`host:port`), if any, and returns whether there was one.
    @discardableResult
    public func forget(_ host: String) throws(DeputyClientError) -> Bool {
        let key = Self.normalised(host)
        let existing = try self.readLines()
        let kept = try self.linesKeeping { $0 != key }
        guard kept.count != existing.count else { return false }
        try self.write(kept)
        return true
    }

    // MARK: - File access

    private enum Line {
        case entry(Entry)
        case comment
    }

    private func readLines() throws(DeputyClientError) -> [Substring] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.path, isDirectory: &isDirectory) else { return [] }
        guard !isDirectory.boolValue else {
            throw .invalidTrustConfiguration("could not read the known-hosts file \(self.path): it is a directory")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: self.path))
        } catch {
            // Foundation's own words name no cause ("The operation could not be completed"):
            // the one case left that is likely, said plainly.
            let reason = FileManager.default.isReadableFile(atPath: self.path) ? error.localizedDescription : "permission denied"
            throw .invalidTrustConfiguration("could not read the known-hosts file \(self.path): \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidTrustConfiguration("the known-hosts file \(self.path) is not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true {
            lines.removeLast()
        }
        return lines
    }

    private func parse(_ line: Substring, number: Int) throws(DeputyClientError) -> Line {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.allSatisfy({ $0 == "\r" }) {
            return .comment
        }
        let fields = trimmed.split { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard fields.count == 2, let fingerprint = Fingerprint(String(fields[1])) else {
            throw .invalidTrustConfiguration(
                "line \(number) of the known-hosts file \(self.path) is not `host:port sha256:<fingerprint>`"
            )
        }
        return .entry(Entry(host: String(fields[0]), fingerprint: fingerprint))
    }

    /// The file's lines, minus the entries whose host fails `keep`; comments are kept.
    private func linesKeeping(_ keep: (String) -> Bool) throws(DeputyClientError) -> [String] {
        var kept: [String] = []
        for (index, line) in try self.readLines().enumerated() {
            switch try self.parse(line, number: index + 1) {
            case .entry(let entry) where !keep(entry.host):
                continue
            case .entry, .comment:
                kept.append(String(line))
            }
        }
        return kept
    }

    private func write(_ lines: [String]) throws(DeputyClientError) {
        let url = URL(fileURLWithPath: self.path)
        let text = lines.map { $0 + "\n" }.joined()
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            // Written to a temporary file and renamed, so a crash or a concurrent reader never
            // sees half a file.
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw .knownHostsWriteFailed(path: self.path, reason: error.localizedDescription)
        }
    }

    static func normalised(_ host: String) -> String {
        host.lowercased()
    }
}
