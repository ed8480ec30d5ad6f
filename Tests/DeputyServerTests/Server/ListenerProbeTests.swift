import DeputyServer
import Foundation
import Testing

/// A Unix socket the daemon can't open is found before anything is created: before, such a
/// mail listener failed after the startup line, with a new data directory already made and
/// systemd already told the daemon was ready.
@Suite("Listener probe")
struct ListenerProbeTests {
    private static func reason(_ path: String) async -> String {
        do {
            try await ListenerProbe.check([.unix(path: path)])
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("a socket in a directory that does not exist, over a file that is not a socket, or with too long a path is refused in words")
    func unixSocketsThatCantBeOpened() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-probe-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        #expect(await Self.reason(root + "/missing/dict") == "cannot listen on \(root)/missing/dict: the socket's directory does not exist")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: root + "/precious.txt"))
        let overFile = await Self.reason(root + "/precious.txt")
        #expect(overFile.hasPrefix("cannot listen on \(root)/precious.txt: a file that is not a socket is there"), "\(overFile)")
        #expect(try String(contentsOfFile: root + "/precious.txt", encoding: .utf8) == "precious")
        let long = root + "/" + String(repeating: "s", count: 120)
        let tooLong = await Self.reason(long)
        #expect(tooLong.contains("longer than the 107 bytes"), "\(tooLong)")
        // A path that can be opened passes.
        #expect(await Self.reason(root + "/dict") == "no error")
    }
}
