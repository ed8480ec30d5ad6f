import DeputyClient
import Foundation
import Testing

@Suite("Known-hosts file")
struct KnownHostsTests {
    static let first = Fingerprint(digest: Array(repeating: 0x11, count: 32))!
    static let second = Fingerprint(digest: Array(repeating: 0x22, count: 32))!

    @Test("a missing file has no entries")
    func missingFile() async throws {
        try await withTemporaryDirectory { directory throws in
            let knownHosts = KnownHosts(path: directory.appendingPathComponent("none").path)
            #expect(try knownHosts.entries().isEmpty)
            #expect(try knownHosts.fingerprint(for: "host:7636") == nil)
        }
    }

    @Test("remember writes host:port sha256:<hex>, creating directories, and reads back")
    func rememberAndRead() async throws {
        try await withTemporaryDirectory { directory throws in
            let path = directory.appendingPathComponent("a/b/known_hosts").path
            let knownHosts = KnownHosts(path: path)
            try knownHosts.remember(Self.first, for: "Directory.Example.org:7636")
            try knownHosts.remember(Self.second, for: "[::1]:7000")

            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == "directory.example.org:7636 \(Self.first)\n[::1]:7000 \(Self.second)\n")
            #expect(try knownHosts.fingerprint(for: "DIRECTORY.example.org:7636") == Self.first)
            #expect(try knownHosts.fingerprint(for: "[::1]:7000") == Self.second)
            #expect(try knownHosts.fingerprint(for: "directory.example.org:7000") == nil)
        }
    }

    @Test("remember replaces an entry and keeps comments and other entries")
    func replaceKeepsTheRest() async throws {
        try await withTemporaryDirectory { directory throws in
            let url = directory.appendingPathComponent("known_hosts")
            let original = """
                # managed by hand
                a.example.org:7636 \(Self.first)

                b.example.org:7636 \(Self.first)

                """
            try Data(original.utf8).write(to: url)
            let knownHosts = KnownHosts(path: url.path)
            try knownHosts.remember(Self.second, for: "a.example.org:7636")

            let text = try String(contentsOf: url, encoding: .utf8)
            let expected = "# managed by hand\n\nb.example.org:7636 \(Self.first)\na.example.org:7636 \(Self.second)\n"
            #expect(text == expected)
            #expect(try knownHosts.entries().map(\.host) == ["b.example.org:7636", "a.example.org:7636"])
        }
    }

    @Test("forget removes only the named entry")
    func forget() async throws {
        try await withTemporaryDirectory { directory throws in
            let knownHosts = KnownHosts(path: directory.appendingPathComponent("known_hosts").path)
            try knownHosts.remember(Self.first, for: "a:1")
            try knownHosts.remember(Self.second, for: "b:2")
            #expect(try knownHosts.forget("A:1"))
            #expect(try !knownHosts.forget("a:1"))
            #expect(try knownHosts.entries() == [KnownHosts.Entry(host: "b:2", fingerprint: Self.second)])
        }
    }

    @Test("plain hex and CRLF lines are read", arguments: ["\r\n", "\n"])
    func lenientReading(terminator: String) async throws {
        try await withTemporaryDirectory { directory throws in
            let url = directory.appendingPathComponent("known_hosts")
            let hex = String(repeating: "22", count: 32)
            try Data("host:1\t\(hex)\(terminator)".utf8).write(to: url)
            #expect(try KnownHosts(path: url.path).fingerprint(for: "host:1") == Self.second)
        }
    }

    @Test("a malformed line is an error naming the file and line", arguments: [
        "host:1", "host:1 sha256:XYZ", "host:1 \(KnownHostsTests.first) extra",
    ])
    func malformedLine(line: String) async throws {
        try await withTemporaryDirectory { directory throws in
            let url = directory.appendingPathComponent("known_hosts")
            try Data("# comment\n\(line)\n".utf8).write(to: url)
            #expect {
                try KnownHosts(path: url.path).entries()
            } throws: { error in
                guard let error = error as? DeputyClientError else { return false }
                return error.code == .invalidTrustConfiguration && error.message.contains("line 2")
                    && error.message.contains(url.path)
            }
        }
    }
}
