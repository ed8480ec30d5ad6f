import Foundation
import Testing

/// Every role against every kind of request, checked against the table in docs/security.md
/// ("Who may do what"): the table is the contract, this suite plays it.
///
/// Each cell runs on a target of its own (a user, an administrator, a group made for that
/// row and role), so one cell's change can't decide another's outcome.
@Suite("Privilege escalation", .serialized)
struct SecurityPrivilegeTests {
    /// The roles, as the table's columns name them.
    static let roles = [
        "anonymous", "user", "usermanagement", "groupmanagement", "spamcontrol", "helpdesk", "quarantine",
        "marketplacedeveloper", "admin", "superadmin", "service",
    ]

    struct Row {
        let request: String
        let expected: [String: String]
    }

    /// The table's rows, read from docs/security.md.
    static func table() throws -> [Row] {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/security.md")
        let lines = try String(contentsOf: document, encoding: .utf8).split(separator: "\n").map(String.init)
        let cells = { (line: String) in line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = lines.firstIndex(where: { $0.hasPrefix("| request |") && $0.contains("| superadmin |") }) else {
            throw TestFailure("docs/security.md has no privilege table")
        }
        let columns = cells(lines[header])
        #expect(Array(columns.dropFirst()) == roles)
        var rows: [Row] = []
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let values = cells(line)
            let request = values[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            rows.append(Row(request: request, expected: Dictionary(uniqueKeysWithValues: zip(columns.dropFirst(), values.dropFirst()))))
        }
        return rows
    }

    @Test("each role gets exactly the outcome the table in docs/security.md gives")
    func everyRoleAgainstEveryRequest() async throws {
        let rows = try Self.table()
        #expect(rows.count >= 30)
        let server = try await TestServer.launch()
        let admin = try await server.boundClient()

        // The actors.
        var clients: [String: LineClient] = [:]
        for role in Self.roles {
            let login = Self.actor(role)
            switch role {
            case "anonymous":
                clients[role] = try await server.plainClient()
                continue
            case "superadmin":
                clients[role] = admin
                continue
            case "service":
                #expect(try await WireTests.status(admin.send("ADD SERVICE \(login) password=pw-\(role)")) == "OK service account \(login) added")
            default:
                #expect(try await admin.send("ADD USER \(login) password=pw-\(role)").first?.hasPrefix("OK") == true)
                if role == "admin" {
                    #expect(try await admin.send("GRANT admin \(login)").first?.hasPrefix("OK") == true)
                } else if role != "user" {
                    #expect(try await admin.send("GRANT \(role) \(login)").first?.hasPrefix("OK") == true)
                }
            }
            clients[role] = try await server.boundClient(login, password: "pw-\(role)")
        }

        // The targets of every cell.
        for (index, row) in rows.enumerated() {
            for role in Self.roles {
                let names = Self.targets(row: index, role: role)
                if row.request.contains("{user}") {
                    #expect(try await admin.send("ADD USER \(names.user)").first?.hasPrefix("OK") == true)
                }
                if row.request.contains("{admin}") {
                    #expect(try await admin.send("ADD USER \(names.admin)").first?.hasPrefix("OK") == true)
                    #expect(try await admin.send("GRANT admin \(names.admin)").first?.hasPrefix("OK") == true)
                }
                if row.request.contains("{group}") {
                    #expect(try await admin.send("ADD GROUP \(names.group) kind=organization").first?.hasPrefix("OK") == true)
                }
                if row.request.contains("{policy}") {
                    #expect(try await admin.send("ADD POLICY \(names.policy)").first?.hasPrefix("OK") == true)
                }
            }
        }

        // Play the table.
        var observed: [[String]] = []
        var mismatches: [String] = []
        for (index, row) in rows.enumerated() {
            var line = [row.request]
            for role in Self.roles {
                let request = Self.expand(row.request, row: index, role: role)
                let reply = try await clients[role]!.send(request)
                let status = reply.last ?? ""
                let outcome = status.hasPrefix("OK") ? "ok" : String(status.split(separator: " ").dropFirst().first ?? "?")
                line.append(outcome)
                if outcome != row.expected[role] {
                    mismatches.append("\(role): \(request) -> \(status) (the table says \(row.expected[role] ?? "nothing"))")
                }
            }
            observed.append(line)
        }
        let table = observed.map { "| `\($0[0])` | " + $0.dropFirst().joined(separator: " | ") + " |" }.joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) cells differ:\n\(mismatches.joined(separator: "\n"))\n\nwhat was observed:\n\(table)")

        // Whatever was refused, no one but the super administrator and the administrator raised a role.
        for role in Self.roles where !["anonymous", "superadmin", "admin", "service"].contains(role) {
            let entry = try await admin.send("QUERY PRIVILEGES \(Self.actor(role))")
            let expectedRole = role == "user" ? "role=user customroles=\"\"" : "role=user customroles=\(role)"
            #expect(entry.first?.contains(expectedRole) == true, "\(role): \(entry)")
        }
        #expect(try await admin.send("QUERY PRIVILEGES admin@example.test").first?.contains("role=superadmin") == true)
        try await server.stop()
    }

    static func actor(_ role: String) -> String {
        switch role {
        case "superadmin": "admin@example.test"
        case "service": "svc-relay"
        default: "r-\(role)@example.test"
        }
    }

    static func targets(row: Int, role: String) -> (user: String, admin: String, group: String, policy: String, new: String) {
        ("t\(row)-\(role)@example.test", "a\(row)-\(role)@example.test", "g\(row)-\(role)@example.test", "p\(row)-\(role)", "n\(row)-\(role)")
    }

    /// The request of a row for one role: `{self}` is the actor, `{user}`, `{admin}` and
    /// `{group}` and `{policy}` the cell's own targets, `{new}` a fresh name, `{super}` the
    /// super administrator.
    static func expand(_ request: String, row: Int, role: String) -> String {
        let names = targets(row: row, role: role)
        return request
            .replacingOccurrences(of: "{self}", with: actor(role))
            .replacingOccurrences(of: "{user}", with: names.user)
            .replacingOccurrences(of: "{admin}", with: names.admin)
            .replacingOccurrences(of: "{group}", with: names.group)
            .replacingOccurrences(of: "{policy}", with: names.policy)
            .replacingOccurrences(of: "{new}", with: names.new)
            .replacingOccurrences(of: "{super}", with: "admin@example.test")
    }
}
