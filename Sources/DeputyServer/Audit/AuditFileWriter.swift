import DeputyCore
import DeputyStore
import Foundation
import Logging

/// Appends every audit record, as one JSON object per line, to a file of its own (mode
/// 0600) for log shippers and SIEMs: `--audit-log FILE`.
///
/// The journal stays the record of truth; this file follows it. After each change the
/// writer appends every record newer than the last one it wrote, and at start it reads
/// the file's last line to find where it stopped, so records of changes committed just
/// before a crash are written on the next start rather than lost.
///
/// A file with no whole record may have been emptied by a rotation (`copytruncate`), so
/// the writer also keeps the last sequence it wrote in `position` (in the data directory),
/// and goes on after it when the file tells nothing; a file that holds records tells for
/// itself.
public actor AuditFileWriter {
    private let path: String
    private let descriptor: Int32
    private var lastWritten: UInt64
    private let positionPath: String?
    private var positionDescriptor: Int32 = -1
    private let logger: Logger

    /// Opens (creating, 0600) the file for appending; `position` is the file (created 0600
    /// at the first record written, its directory being the data directory) that keeps
    /// where this file stopped.
    public init(path: String, position: String? = nil, logger: Logger) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ConfigurationError("can't open the audit log \(path): \(String(cString: strerror(errno)))") }
        // The mode of the file opened, through any symbolic link: the link's own (0777)
        // says nothing, and chmod on the link changes the file it points to.
        var status = stat()
        if fstat(descriptor, &status) == 0, case let mode = Int(status.st_mode & 0o777), mode & 0o077 != 0 {
            close(descriptor)
            // Worded as the data directory's refusals are, with the command that fixes it.
            throw ConfigurationError(
                "the audit log \(path) is open to group or others (mode \(FileMode.octal(UInt16(mode & 0o777)))); fix it with: chmod 600 \(path)"
            )
        }
        self.path = path
        self.descriptor = descriptor
        self.positionPath = position
        self.logger = logger
        // A last line cut short by a crash is ended here, so that the next record starts a
        // line of its own instead of running on from the fragment.
        // (The size is the opened file's, from the `fstat` above.)
        if status.st_size > 0, let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(status.st_size - 1))
            if let last = try? handle.read(upToCount: 1), last != Data([0x0A]) {
                _ = "\n".withCString { write(descriptor, $0, 1) }
            }
        }
        let inFile = Self.lastSequence(inFileAt: path)
        self.lastWritten = inFile > 0 ? inFile : (position.flatMap { Self.position(at: $0, for: path) } ?? 0)
    }

    deinit {
        close(descriptor)
        if positionDescriptor >= 0 { close(positionDescriptor) }
    }

    /// Appends the records of `log` newer than the last written.
    public func catchUp(with log: AuditLog) {
        if log.lastSequence < lastWritten {
            // The file has records the directory has not: it was restored from an older
            // backup. What follows continues from the directory's own sequence, so the
            // file shows the fork rather than silently skipping the new records.
            logger.warning("the audit log file is ahead of the directory (restored from a backup?); appending from the directory's sequence", metadata: [
                "audit.file": "\(path)", "audit.file.sequence": "\(lastWritten)", "audit.sequence": "\(log.lastSequence)",
            ])
            lastWritten = log.lastSequence
        }
        guard log.lastSequence > lastWritten else { return }
        var text = ""
        var sequence = lastWritten + 1
        if let first = log.firstSequence, first > sequence {
            // The organisation's audit retention dropped these before the file had them
            // (the file is new, or was behind while the daemon was down).
            logger.warning("audit records expired before the audit log file had them; the file goes on from the oldest record held", metadata: [
                "audit.file": "\(path)", "audit.file.sequence": "\(lastWritten)", "audit.first": "\(first)",
            ])
            sequence = first
        }
        while sequence <= log.lastSequence {
            if let record = log[sequence] { text += Self.line(record) }
            sequence += 1
        }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                logger.error("writing the audit log failed; it will be retried after the next change", metadata: [
                    "audit.file": "\(path)", "error": "\(String(cString: strerror(errno)))",
                ])
                return
            }
            offset += written
        }
        lastWritten = log.lastSequence
        recordPosition()
    }

    /// Keeps `lastWritten` for the next start: one write of a fixed-width line at the start
    /// of the position file, no sync (a position lost with the machine only repeats records
    /// after a rotation), and the audit file's path after it, so that a position kept for
    /// another file is not taken for this one's.
    private func recordPosition() {
        guard let positionPath else { return }
        if positionDescriptor < 0 {
            positionDescriptor = open(positionPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard positionDescriptor >= 0 else {
                logger.warning("can't keep the audit log file's position; after a rotation, a restart writes the records again", metadata: [
                    "audit.position": "\(positionPath)", "error": "\(String(cString: strerror(errno)))",
                ])
                return
            }
            // Emptied, then the path written once: the sequence before it keeps its width.
            let tail = Array((" " + path + "\n").utf8)
            _ = tail.withUnsafeBytes { pwrite(positionDescriptor, $0.baseAddress, $0.count, 20) }
        }
        let line = Array(String(format: "%020llu", lastWritten).utf8)
        _ = line.withUnsafeBytes { pwrite(positionDescriptor, $0.baseAddress, $0.count, 0) }
    }

    /// The sequence a position file keeps for the audit file at `path`, if it keeps one.
    static func position(at positionPath: String, for path: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: positionPath, encoding: .utf8), text.utf8.count > 21 else { return nil }
        let sequence = text.prefix(20)
        let rest = text.dropFirst(21)
        guard rest.hasSuffix("\n"), String(rest.dropLast()) == path else { return nil }
        return UInt64(sequence)
    }

    /// One record as a JSON line: `{"seq":12,"time":"...","actor":"...","action":"...","target":"...","detail":"...","result":"ok"}`.
    static func line(_ record: AuditRecord) -> String {
        var fields = [
            ("seq", String(record.sequence)),
            ("time", JSONLogHandler.string(record.time.formatted(.iso8601))),
            ("actor", JSONLogHandler.string(record.actor)),
            ("action", JSONLogHandler.string(record.action)),
            ("target", JSONLogHandler.string(record.target)),
            ("detail", JSONLogHandler.string(record.detail)),
        ]
        switch record.outcome {
        case .applied: fields.append(("result", "\"ok\""))
        case .refused(let code, let rule):
            fields.append(("result", JSONLogHandler.string(code.rawValue)))
            if let rule { fields.append(("rule", JSONLogHandler.string(rule.rawValue))) }
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
    }

    /// The `seq` of the file's last complete line, or 0.
    static func lastSequence(inFileAt path: String) -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > 65_536 ? size - 65_536 : 0
        try? handle.seek(toOffset: start)
        guard let data = try? handle.readToEnd(), let text = String(data: data, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n").reversed() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let sequence = (object["seq"] as? NSNumber)?.uint64Value else { continue }
            return sequence
        }
        return 0
    }
}
