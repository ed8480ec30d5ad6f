@testable import DeputyServer
import Foundation
import Logging
import Testing

/// `--log-format json`: each record one JSON object on one line, whatever its text holds.
@Suite("JSON logs")
struct JSONLogHandlerTests {
    @Test("A record with hostile text and metadata is one line of valid JSON that reads back exactly")
    func hostileRecord() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-json-log-\(UUID().uuidString.prefix(8))").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer {
            close(descriptor)
            try? FileManager.default.removeItem(atPath: path)
        }
        var handler = JSONLogHandler(label: "deputyd", output: JSONLogOutput(descriptor: descriptor))
        handler.logLevel = .debug
        var logger = Logger(label: "deputyd") { _ in handler }
        logger[metadataKey: "connection"] = "7"
        let hostile = "x\"\n{\"level\":\"critical\"}\u{0}\u{7} \\ ünï 名"
        logger.notice("login failed \(hostile)", metadata: ["auth.login": "\(hostile)", "list": .array(["a", "b\n"])])
        logger.trace("below the level")

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(record["level"] as? String == "notice")
        #expect(record["label"] as? String == "deputyd")
        #expect(record["message"] as? String == "login failed \(hostile)")
        #expect(record["auth.login"] as? String == hostile)
        #expect(record["connection"] as? String == "7")
        #expect(record["list"] as? [String] == ["a", "b\n"])
        #expect((record["time"] as? String)?.hasSuffix("Z") == true)
    }
}
