import DeputyClient
import DeputyProtocol
import Foundation

/// Prints replies in the chosen format: data on standard output, messages on standard error.
struct ReplyPrinter {
    let format: OutputFormat
    /// Whether colour may be used (a terminal, and `NO_COLOR` not set).
    let colour: Bool

    init(format: OutputFormat, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.format = format
        self.colour = format == .table && isatty(STDERR_FILENO) == 1 && (environment["NO_COLOR"] ?? "").isEmpty
    }

    /// Prints a reply's records, and its status text to standard error when it says something.
    func print(_ reply: Reply) {
        switch format {
        case .json:
            Self.write(Self.json(reply) + "\n", to: .standardOutput)
        case .plain:
            for record in reply.records {
                Self.write(Self.plainLine(record) + "\n", to: .standardOutput)
            }
            printStatus(reply.status)
        case .table:
            Self.write(Self.table(reply.records), to: .standardOutput)
            printStatus(reply.status)
        }
    }

    /// Prints the status line's text to standard error, in red for errors where colour is allowed.
    func printStatus(_ status: ReplyStatus) {
        switch status {
        case .ok(let text):
            if let text, !text.isEmpty { Self.write(text + "\n", to: .standardError) }
        case .error(let code, let text):
            let message = "error (\(code.rawValue)): \(text)"
            Self.write((colour ? "\u{1B}[31m\(message)\u{1B}[0m" : message) + "\n", to: .standardError)
        }
    }

    /// A message for people, on standard error.
    static func message(_ text: String) {
        write(text + "\n", to: .standardError)
    }

    // MARK: - Formats

    /// The record as the protocol writes it, without the leading `* `.
    static func plainLine(_ record: ReplyRecord) -> String {
        var buffer = ByteBuffer()
        _ = ReplyEncoder.write(record, into: &buffer)
        var line = String(buffer: buffer)
        if line.hasPrefix("* ") { line.removeFirst(2) }
        if line.hasSuffix("\n") { line.removeLast() }
        return line
    }

    /// `{"ok":true,"text":"...","records":[{"key":"value", "multi":["a","b"]}]}`; a key that
    /// repeats in a record becomes an array.
    static func json(_ reply: Reply) -> String {
        var object: [String: Any] = [:]
        switch reply.status {
        case .ok(let text):
            object["ok"] = true
            if let text { object["text"] = text }
        case .error(let code, let text):
            object["ok"] = false
            object["error"] = code.rawValue
            object["text"] = text
        }
        object["records"] = reply.records.map(jsonObject)
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonObject(_ record: ReplyRecord) -> [String: Any] {
        var object: [String: Any] = [:]
        for field in record.fields {
            switch object[field.key] {
            case nil: object[field.key] = field.value
            case let existing as String: object[field.key] = [existing, field.value]
            case let existing as [String]: object[field.key] = existing + [field.value]
            default: break
            }
        }
        return object
    }

    /// Columns for every key seen, in order of first appearance; repeated keys joined by commas.
    static func table(_ records: [ReplyRecord]) -> String {
        guard !records.isEmpty else { return "" }
        var columns: [String] = []
        for record in records {
            for field in record.fields where !columns.contains(field.key) { columns.append(field.key) }
        }
        let rows: [[String]] = records.map { record in
            columns.map { record.values(for: $0).joined(separator: ",") }
        }
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = min(max(widths[index], cell.count), 60) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: max(widths[index], cell.count), withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            // A row whose last cells are empty ends at its last text, not in spaces.
            return String(padded.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        return line(columns.map { $0.uppercased() }) + rows.map(line).joined()
    }

    /// Prints a QR code on standard output under `caption`, black on white where standard
    /// output is a terminal that allows colour (so it scans on dark terminals too), else
    /// dark modules as blocks on the page's own background.
    func printQRCode(_ code: QRCode, caption: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let colour = isatty(STDOUT_FILENO) == 1 && (environment["NO_COLOR"] ?? "").isEmpty
        var text = caption + "\n"
        for line in code.halfBlockLines() {
            text += colour ? "\u{1B}[30;47m" + line + "\u{1B}[0m\n" : line + "\n"
        }
        Self.write(text, to: .standardOutput)
    }

    static func write(_ text: String, to handle: FileHandle) {
        StandardOutput.write(text, to: handle.fileDescriptor)
    }
}

import NIOCore
