import DeputyServer
import Foundation
import Testing

/// Every transcript in protocol.md, replayed against a real daemon.
@Suite("protocol.md transcripts")
struct ProtocolDocumentTests {
    struct Transcript: CustomStringConvertible, Sendable {
        let index: Int
        let lines: [String]
        var description: String { "transcript \(index + 1)" }
    }

    static let document: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("protocol.md"), encoding: .utf8)) ?? ""
    }()

    static let transcripts: [Transcript] = {
        var result: [Transcript] = []
        var current: [String]?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "```transcript" {
                current = []
            } else if line == "```", let lines = current {
                result.append(Transcript(index: result.count, lines: lines))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return result
    }()

    @Test("protocol.md holds transcripts")
    func documentHasTranscripts() {
        #expect(Self.transcripts.count >= 5)
    }

    @Test("each transcript replays exactly", arguments: transcripts)
    func replay(_ transcript: Transcript) async throws {
        let server = try await TestServer.launch()
        let client = try await server.plainClient()
        var lines = transcript.lines[...]
        #expect(lines.popFirst() == "S: \(client.greeting)")
        while let line = lines.popFirst() {
            guard line.hasPrefix("C: ") else {
                Issue.record("expected a client line, found \(line)")
                break
            }
            var expected: [String] = []
            while let next = lines.first, next.hasPrefix("S: ") {
                expected.append(String(next.dropFirst(3)))
                lines.removeFirst()
            }
            let reply = try await client.send(String(line.dropFirst(3)))
            #expect(reply == expected, "after \(line)")
        }
        try await server.stop()
    }
}
