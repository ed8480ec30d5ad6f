import DeputyCore
import DeputyServer
import Foundation
import Logging
import Testing

/// The audit log file follows the directory's trail across restarts, rotations and crashes:
/// every record once, one JSON object a line.
@Suite("Audit log file")
struct AuditFileWriterTests {
    /// A directory with `count` audit records after the organisation's.
    fileprivate static func directory(records count: Int) -> Directory {
        var directory = TestServer.directory()
        for index in 0..<count {
            directory.apply(
                .recordLoginFailure(LoginAttempt(login: "x\(index)@example.test", source: "192.0.2.1", via: "bind")),
                context: CommandContext(actor: .system, time: TestServer.start)
            )
        }
        return directory
    }

    private static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    private static func sequence(_ line: String) -> UInt64? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return (object["seq"] as? NSNumber)?.uint64Value
    }

    fileprivate static func root() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-audit-\(UUID().uuidString.prefix(8))").path
        // The position is kept in the data directory, which the daemon has made by then.
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return root
    }

    /// A file in its own directory, and its position in the data directory beside it, after
    /// a first writer wrote the organisation's record and three more.
    private struct Written {
        let root: String
        let directory: Directory
        var path: String { root + "/audit.log" }
        var position: String { root + "/data/audit-log.position" }

        init() async throws {
            root = try AuditFileWriterTests.root()
            directory = AuditFileWriterTests.directory(records: 3)
            let first = try AuditFileWriter(path: root + "/audit.log", position: root + "/data/audit-log.position", logger: Logger(label: "test"))
            await first.catchUp(with: directory.auditLog)
        }

        /// The writer of the next start.
        func reopened() throws -> AuditFileWriter {
            try AuditFileWriter(path: path, position: position, logger: Logger(label: "test"))
        }
    }

    /// docs/configuration.md: rotate with logrotate's copytruncate. A restart after it found
    /// the file empty and wrote the whole trail into it again, every record now twice over
    /// the two files.
    @Test("a restart after copytruncate goes on after the last record written, not from the start")
    func restartAfterRotation() async throws {
        let file = try await Written()
        defer { try? FileManager.default.removeItem(atPath: file.root) }
        let (path, position, before) = (file.path, file.position, file.directory)
        let written = Self.lines(path).compactMap(Self.sequence)
        #expect(written == Array(1...before.auditLog.lastSequence), "\(written)")

        let mode = try FileManager.default.attributesOfItem(atPath: position)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the position file's mode: \(String(mode ?? 0, radix: 8))")

        // logrotate copies the file away and empties it; then the daemon restarts.
        try Data().write(to: URL(fileURLWithPath: path))
        let second = try file.reopened()
        await second.catchUp(with: before.auditLog)
        #expect(Self.lines(path).compactMap(Self.sequence) == [], "\(Self.lines(path))")

        var after = before
        after.apply(.recordLoginFailure(LoginAttempt(login: "y@example.test", source: "192.0.2.1", via: "bind")), context: CommandContext(actor: .system, time: TestServer.start))
        await second.catchUp(with: after.auditLog)
        #expect(Self.lines(path).compactMap(Self.sequence) == [after.auditLog.lastSequence], "\(Self.lines(path))")
    }

    /// A crash can leave the last line cut short. The next start wrote the record it missed
    /// right after the fragment, on the same line, so that line no longer parsed.
    @Test("after a torn last line, the record it missed is written on a line of its own")
    func tornLastLine() async throws {
        let file = try await Written()
        defer { try? FileManager.default.removeItem(atPath: file.root) }
        let (path, directory) = (file.path, file.directory)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 20).write(to: URL(fileURLWithPath: path))

        let second = try file.reopened()
        await second.catchUp(with: directory.auditLog)
        let lines = Self.lines(path).filter { !$0.isEmpty }
        // Every line but the fragment is a whole record, and the last is the directory's last.
        #expect(lines.filter { Self.sequence($0) == nil }.count == 1, "\(lines)")
        #expect(lines.last.flatMap(Self.sequence) == directory.auditLog.lastSequence, "\(lines)")
        #expect(lines.compactMap(Self.sequence) == Array(1...directory.auditLog.lastSequence), "\(lines)")
    }

    /// The mode check read the link's own mode (0777) and advised a chmod that could not
    /// change it; the file behind the link is what is written and read.
    @Test("an audit log reached through a symbolic link is judged by the file it points to")
    func throughASymbolicLink() throws {
        let root = try Self.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/audit.log"
        FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.createSymbolicLink(atPath: root + "/link.log", withDestinationPath: file)
        _ = try AuditFileWriter(path: root + "/link.log", logger: Logger(label: "test"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            _ = try AuditFileWriter(path: root + "/link.log", logger: Logger(label: "test"))
            Issue.record("a file open to others was taken through its link")
        } catch {
            #expect("\(error)".contains("(mode 0644)"), "\(error)")
        }
    }
}
