import Foundation
import SwiftCSV

/// A CSV file of users for `deputy import users`: its header checked against the columns the
/// import knows, and each row's fields matched to them by position, or the reason they can't
/// be. A row with more or fewer fields than the header is never read: an unquoted comma in a
/// name would shift the password into another column (and the name's second half into the
/// password).
struct UserImportFile {
    /// The columns a file may name; `address` is required.
    static let columns = ["address", "name", "password", "aliases", "recovery", "policy"]

    /// One row of the file.
    struct Row {
        /// Its line in the file, the header being line 1 (a quoted field that spans lines
        /// counts as one).
        let line: Int
        /// Its fields by column: empty when ``problem`` is set.
        let fields: [String: String]
        /// Why the row can't be read, in the words of a rejection.
        let problem: String?
    }

    /// The rows, blank lines left out.
    let rows: [Row]

    /// Reads and checks the file at `path`.
    ///
    /// - Throws: ``CLIError`` when the file can't be read, is not CSV, or its header names no
    ///   `address`, a column the import does not know, or a column twice.
    init(path: String) throws {
        let data = try LocalFile.read(path, "the CSV file")
        // Decoding would put U+FFFD for every byte that is not UTF-8 (a spreadsheet's
        // Windows-1252 export), and every accented name would be stored damaged.
        guard var text = String(validating: data, as: UTF8.self) else {
            throw CLIError(.configuration, "\(path) is not UTF-8 (line \(Self.firstLineNotUTF8(in: data))); save it as UTF-8 (\"CSV UTF-8\" in a spreadsheet) and import it again")
        }
        // The parser reads a quote left open as a field running to the end of the file: the
        // rows after it would vanish into one, and the count would not even show them.
        if let line = Self.lineOfUnclosedQuote(in: text) {
            throw CLIError(.configuration, "\(path) has a quote opened on line \(line) that is never closed; close it (a quote inside a field is written twice: \"\")")
        }
        // The parser drops an empty last field when the file does not end with a newline,
        // which would make that row one field short.
        if !text.isEmpty, text.last?.isNewline == false { text.append("\n") }
        var records: [[String]] = []
        let header: [String]
        do {
            let csv = try CSV<Enumerated>(string: text, delimiter: .comma, loadColumns: false)
            header = csv.header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            try csv.enumerateAsArray(startAt: 1, rowLimit: nil) { records.append($0) }
        } catch {
            throw CLIError(.configuration, "\(path) is not a CSV file", detail: "\(error)")
        }
        for (index, column) in header.enumerated() {
            guard Self.columns.contains(column) else {
                throw CLIError(.configuration, "\(path) has an unknown column '\(column)'; the columns are \(Self.columns.joined(separator: ", "))")
            }
            guard !header[..<index].contains(column) else {
                throw CLIError(.configuration, "\(path) names the column '\(column)' twice")
            }
        }
        guard header.contains("address") else { throw CLIError(.configuration, "\(path) has no 'address' column") }
        var rows: [Row] = []
        for (index, fields) in records.enumerated() {
            let line = index + 2
            if fields.allSatisfy(\.isEmpty) && fields.count <= 1 { continue }
            guard fields.count == header.count else {
                rows.append(Row(
                    line: line, fields: [:],
                    problem: "invalid: the row has \(fields.count) fields where the header names \(header.count) (quote a field that holds a comma)"
                ))
                continue
            }
            rows.append(Row(line: line, fields: Dictionary(uniqueKeysWithValues: zip(header, fields)), problem: nil))
        }
        self.rows = rows
    }

    /// The line (from 1) of a quote that opens a field and is never closed, as RFC 4180
    /// reads quotes (one inside a quoted field is doubled); `nil` when every one is closed.
    static func lineOfUnclosedQuote(in text: String) -> Int? {
        var line = 1
        var openedOn: Int?
        var bytes = text.utf8.makeIterator()
        var pending: UInt8? = nil
        while let byte = pending ?? bytes.next() {
            pending = nil
            if byte == UInt8(ascii: "\n") { line += 1 }
            guard byte == UInt8(ascii: "\"") else { continue }
            if openedOn == nil {
                openedOn = line
            } else if let next = bytes.next() {
                // A doubled quote inside the field stays in it; any other ends the field.
                if next != UInt8(ascii: "\"") {
                    openedOn = nil
                    pending = next
                }
            } else {
                openedOn = nil
            }
        }
        return openedOn
    }

    /// The number of the first line (from 1) that is not valid UTF-8.
    static func firstLineNotUTF8(in data: Data) -> Int {
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where String(validating: line, as: UTF8.self) == nil {
            return index + 1
        }
        return 1
    }
}
