import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation
import SwiftCSV

/// `deputy import users FILE.csv`
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Add many entries from a file.", subcommands: [Users.self])

    struct Users: DeputyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add users from a CSV file in one pipelined run.",
            discussion: """
                The first row names the columns: address (required), name, password, aliases (separated by ';'), recovery, policy.
                Rows the server refuses, or that are malformed, go to the rejected file with the reason; the rest are added.
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Check every row, and whether its address is free, without adding anything.") var dryRun = false
        @Option(help: "Where to write rejected rows with their reasons (default FILE.rejected.csv).") var rejected: String?

        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let rows = try Self.rows(file)
            var requests: [(row: Int, fields: [String: String], request: Request)] = []
            var rejections: [(row: Int, fields: [String: String], reason: String)] = []
            for (index, fields) in rows.enumerated() {
                let address = fields["address"] ?? ""
                guard !address.isEmpty else {
                    rejections.append((index + 2, fields, "no address"))
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
                    rejections.append((index + 2, fields, "invalid: \(error.description)"))
                    continue
                }
                requests.append((index + 2, fields, request))
            }
            let replies: [Reply]
            do {
                replies = try await session.connection.send(requests.map(\.request))
            } catch let error as DeputyClientError {
                throw CLIError(error)
            }
            var added = 0
            for (entry, reply) in zip(requests, replies) {
                if reply.status.isOK {
                    added += 1
                } else {
                    rejections.append((entry.row, entry.fields, reply.status.text))
                }
            }
            ReplyPrinter.message(dryRun ? "\(added) of \(rows.count) rows would be added" : "\(added) of \(rows.count) users added")
            if !rejections.isEmpty {
                let path = rejected ?? (file.hasSuffix(".csv") ? String(file.dropLast(4)) : file) + ".rejected.csv"
                try Self.writeRejections(rejections.sorted { $0.row < $1.row }, to: path)
                ReplyPrinter.message("\(rejections.count) \(rejections.count == 1 ? "row" : "rows") rejected; see \(path)")
                return .refused
            }
            return .success
        }

        static func rows(_ path: String) throws -> [[String: String]] {
            let text = String(decoding: try LocalFile.read(path, "the CSV file"), as: UTF8.self)
            let csv: CSV<Named>
            do {
                csv = try CSV<Named>(string: text, delimiter: .comma, loadColumns: false)
            } catch {
                throw CLIError(.configuration, "\(path) is not a CSV file", detail: "\(error)")
            }
            guard csv.header.contains("address") else { throw CLIError(.configuration, "\(path) has no 'address' column") }
            return csv.rows
        }

        /// The rejected rows as CSV: their line in the input, the reason, then the fields
        /// (passwords left out, so the file can be kept).
        static func writeRejections(_ rejections: [(row: Int, fields: [String: String], reason: String)], to path: String) throws {
            func cell(_ text: String) -> String {
                text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            var text = "line,reason,address,name,aliases,recovery,policy\n"
            for rejection in rejections {
                let fields = rejection.fields
                text += [String(rejection.row), rejection.reason, fields["address"] ?? "", fields["name"] ?? "", fields["aliases"] ?? "", fields["recovery"] ?? "", fields["policy"] ?? ""]
                    .map(cell).joined(separator: ",") + "\n"
            }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
