import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation

/// `deputy import users FILE.csv`
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Add many entries from a file.", subcommands: [Users.self])

    struct Users: DeputyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add users from a CSV file in one pipelined run.",
            discussion: """
                The first row names the columns: address (required), name, password, aliases (separated by ';'), recovery, policy.
                A row must have as many fields as the header names: quote a field that holds a comma.
                Rows the server refuses, or that are malformed, go to the rejected file (mode 600) with the reason; the rest are added.
                If the connection breaks partway, the rows without a reply are marked unknown there.
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Check every row, and whether its address is free, without adding anything.") var dryRun = false
        @Option(help: "Where to write rejected rows with their reasons (default FILE.rejected.csv).") var rejected: String?

        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let rows = try UserImportFile(path: file).rows
            let rejectedPath = rejected ?? (file.hasSuffix(".csv") ? String(file.dropLast(4)) : file) + ".rejected.csv"
            // Before anything is sent: found only afterwards, the rows' reasons would be lost.
            try LocalFile.requireWritable(rejectedPath, "the rejected rows' file")
            var requests: [(row: Int, fields: [String: String], request: Request)] = []
            var rejections: [(row: Int, fields: [String: String], reason: String)] = []
            for row in rows {
                if let problem = row.problem {
                    rejections.append((row.line, row.fields, problem))
                    continue
                }
                let fields = row.fields
                let address = fields["address"] ?? ""
                guard !address.isEmpty else {
                    rejections.append((row.line, fields, "no address"))
                    continue
                }
                let request: Request
                do {
                    func field(_ column: String) -> String? { fields[column].flatMap { $0.isEmpty ? nil : $0 } }
                    let aliases = field("aliases").map { $0.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
                    // A dry run asks the server to check each row as it would add it.
                    request = .add(.user(Request.NewUserRequest(
                        address: try ArgumentValues.address(address, "the address"), password: field("password"), name: field("name"),
                        recovery: try ArgumentValues.optionalAddress(field("recovery"), "the recovery address"),
                        aliases: try ArgumentValues.addresses(aliases, "an alias"), policy: field("policy"), dryRun: dryRun
                    )))
                } catch let error as CLIError {
                    // Worded as the server words a refusal, so every reason reads alike.
                    rejections.append((row.line, fields, "invalid: \(error.description)"))
                    continue
                }
                requests.append((row.line, fields, request))
            }
            // Each row's own outcome: when the connection breaks partway, the rows answered
            // before it are counted, and the rest reported as unknown rather than lost.
            let outcomes = await session.connection.sendEach(requests.map(\.request))
            var added = 0
            var unanswered = 0
            var breakage: (any Error)?
            // A dry run checks each row against the directory as it is, not as the rows
            // before it would leave it: the first row to add an address claims it, and a
            // later one naming it would be refused as the real run refuses it.
            var claimed: [String: Int] = [:]
            for (entry, outcome) in zip(requests, outcomes) {
                switch outcome {
                case .success(let reply) where reply.status.isOK:
                    if dryRun, let (address, line) = Self.claimedEarlier(entry.fields, row: entry.row, in: &claimed) {
                        rejections.append((entry.row, entry.fields, "exists: the address \(address) is added by line \(line) first"))
                        continue
                    }
                    added += 1
                case .success(let reply):
                    rejections.append((entry.row, entry.fields, reply.status.text))
                case .failure(let error):
                    unanswered += 1
                    breakage = breakage ?? error
                    rejections.append((entry.row, entry.fields, "unknown: no reply came; the row may or may not have been added"))
                }
            }
            ReplyPrinter.message(dryRun ? "\(added) of \(rows.count) rows would be added" : "\(added) of \(rows.count) users added")
            if !rejections.isEmpty {
                try LocalFile.writeAtomically(Data(Self.rejectionsText(rejections.sorted { $0.row < $1.row }).utf8), to: rejectedPath)
                ReplyPrinter.message("\(rejections.count) \(rejections.count == 1 ? "row" : "rows") rejected; see \(rejectedPath)")
            } else if Self.isRejectionsFile(rejectedPath) {
                // An earlier run's rejections would read as this run's.
                try? FileManager.default.removeItem(atPath: rejectedPath)
                ReplyPrinter.message("no row rejected; removed \(rejectedPath), an earlier run's")
            }
            if let breakage {
                let failure = (breakage as? DeputyClientError).map(CLIError.init) ?? CLIError(.unreachable, "\(breakage)")
                let count = "\(unanswered) \(unanswered == 1 ? "row has" : "rows have") no reply"
                throw CLIError(failure.status, "\(count) (marked unknown in the rejected file): \(failure.description)", detail: failure.detail)
            }
            return rejections.isEmpty ? .success : .refused
        }

        /// The address of `fields` (or one of its aliases) that an earlier row claimed, with
        /// that row's line; otherwise claims them all for `row` and returns `nil`.
        static func claimedEarlier(_ fields: [String: String], row: Int, in claimed: inout [String: Int]) -> (String, Int)? {
            let aliases = (fields["aliases"] ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let addresses = [fields["address"] ?? ""] + aliases
            for address in addresses {
                if let line = claimed[address.lowercased()] { return (address, line) }
            }
            for address in addresses { claimed[address.lowercased()] = row }
            return nil
        }

        /// The header every rejected rows' file starts with.
        static let rejectionsHeader = "line,reason,address,name,aliases,recovery,policy\n"

        /// Whether `path` holds a rejected rows' file, which a clean run may remove.
        static func isRejectionsFile(_ path: String) -> Bool {
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            return (try? handle.read(upToCount: rejectionsHeader.utf8.count)) == Data(rejectionsHeader.utf8)
        }

        /// The rejected rows as CSV: their line in the input, the reason, then the fields
        /// (passwords left out, so the file can be kept; a row whose fields did not match the
        /// header has its line and reason only).
        static func rejectionsText(_ rejections: [(row: Int, fields: [String: String], reason: String)]) -> String {
            func cell(_ text: String) -> String {
                text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            var text = rejectionsHeader
            for rejection in rejections {
                let fields = rejection.fields
                text += [String(rejection.row), rejection.reason, fields["address"] ?? "", fields["name"] ?? "", fields["aliases"] ?? "", fields["recovery"] ?? "", fields["policy"] ?? ""]
                    .map(cell).joined(separator: ",") + "\n"
            }
            return text
        }
    }
}
