import DeputyCore
import Foundation
import Testing

/// Every role as actor against every role as target, for every act on an account: the table
/// in docs/security.md ("The order of authority, cell by cell") is this test's output.
///
/// The test plays each cell on a directory of its own and compares the outcomes with the
/// table in the document; a difference fails with the table the rules give. Run with
/// `DEPUTY_WRITE_DOCS=1` to write that table into the document.
@Suite("The authority lattice")
struct AuthorityLatticeTests {
    typealias T = TestDirectory

    /// The actors, as the table's columns: a plain user, each custom administrator role,
    /// an administrator and the super administrator.
    enum ActorRole: CaseIterable {
        case user
        case custom(CustomAdminRole)
        case administrator
        case superAdministrator

        static var allCases: [ActorRole] {
            [.user] + CustomAdminRole.allCases.sorted().map { .custom($0) } + [.administrator, .superAdministrator]
        }

        var column: String {
            switch self {
            case .user: "user"
            case .custom(let role): role.rawValue
            case .administrator: "admin"
            case .superAdministrator: "superadmin"
            }
        }

        /// The account that acts in this column.
        var account: String {
            switch self {
            case .user: "actuser"
            case .custom(let role): "act\(role.rawValue)"
            case .administrator: "actadmin"
            case .superAdministrator: "boss"
            }
        }
    }

    /// The targets, as the rows' second part.
    enum TargetRole: String, CaseIterable {
        case user = "{user}"
        case customAdministrator = "{custom}"
        case administrator = "{admin}"
        case superAdministrator = "{super}"
        case itself = "{self}"

        func account(for actor: ActorRole) -> String {
            switch self {
            case .user: "target"
            case .customAdministrator: "targetcustom"
            case .administrator: "targetadmin"
            case .superAdministrator: "boss"
            case .itself: actor.account
            }
        }
    }

    /// The acts, as the rows' first part, with the command each makes for a target and an actor.
    struct Act: Sendable {
        let request: String
        let command: @Sendable (_ target: EmailAddress, _ actor: EmailAddress) -> Command
        var reauthenticated = false
    }

    static let acts: [Act] = [
        Act(request: "DELEGATE {target} {actor} read,sendas") { .delegate(NewDelegation(mailbox: $0, delegate: $1, permissions: PermissionSet([.read, .sendAs]))) },
        Act(request: "DELEGATE {target} {third} read") { target, _ in .delegate(NewDelegation(mailbox: target, delegate: T.address("third"), permissions: PermissionSet([.read]))) },
        Act(request: "UNDELEGATE {target} {third}") { target, _ in .undelegate(mailbox: target, delegate: T.address("third")) },
        Act(request: "PASSWD {target} new=...") { target, _ in .setPassword(target, T.hash) },
        Act(request: "MODIFY USER {target} name=Renamed") { target, _ in .modifyUser(target, UserChanges(displayName: "Renamed")) },
        Act(request: "MODIFY USER {target} recovery=r@elsewhere.test") { target, _ in .modifyUser(target, UserChanges(recoveryAddress: .set(EmailAddress("r@elsewhere.test")!))) },
        Act(request: "MODIFY USER {target} addalias=new@acme.test") { target, _ in .modifyUser(target, UserChanges(addAliases: [T.address("newalias")])) },
        Act(request: "MODIFY USER {target} blocked=yes") { target, _ in .setBlocked(target, true) },
        Act(request: "DELETE USER {target}") { target, _ in .deleteUser(target) },
        Act(request: "GRANT helpdesk {target}") { target, _ in .grantCustomRole(target, .helpdesk) },
        Act(request: "REVOKE quarantine {target}") { target, _ in .revokeCustomRole(target, .quarantine) },
        Act(request: "GRANT admin {target}") { target, _ in .setRole(target, .administrator) },
        Act(request: "REVOKE admin {target}") { target, _ in .setRole(target, .user) },
        Act(request: "GRANT superadmin {target} (after REAUTH)", command: { target, _ in .setRole(target, .superAdministrator) }, reauthenticated: true),
    ]

    /// An organisation with one account for each actor and each target, and the target's
    /// mailbox delegated to `third` (for the UNDELEGATE row).
    static func fixture() -> TestDirectory {
        var t = T(organization: false)
        t.expectApplied(
            .createOrganization(NewOrganization(name: "Acme", domain: DomainName("acme.test")!, superAdministrator: T.address("boss"), superAdministratorName: "Boss", passwordHash: T.hash)),
            as: .system
        )
        let accounts = ActorRole.allCases.map(\.account).filter { $0 != "boss" } + ["target", "targetcustom", "targetadmin", "third"]
        for name in accounts {
            t.expectApplied(.addUser(NewUser(address: T.address(name), displayName: name, passwordHash: T.hash)), as: .system)
        }
        for role in CustomAdminRole.allCases {
            t.expectApplied(.grantCustomRole(T.address("act\(role.rawValue)"), role), as: t.principal("boss"))
        }
        t.expectApplied(.grantCustomRole(T.address("targetcustom"), .quarantine), as: t.principal("boss"))
        t.expectApplied(.setRole(T.address("actadmin"), .administrator), as: t.principal("boss"))
        t.expectApplied(.setRole(T.address("targetadmin"), .administrator), as: t.principal("boss"))
        for name in Set(["target", "targetcustom", "targetadmin"] + ActorRole.allCases.map(\.account)) {
            t.expectApplied(.delegate(NewDelegation(mailbox: T.address(name), delegate: T.address("third"), permissions: PermissionSet([.read]))), as: .system)
        }
        return t
    }

    /// What one cell gives: `ok`, or the error code of the refusal.
    static func outcome(of act: Act, actor: ActorRole, target: TargetRole) -> String {
        var t = fixture()
        let targetAddress = T.address(target.account(for: actor))
        let actorAddress = T.address(actor.account)
        let command = act.command(targetAddress, actorAddress)
        let result = t.apply(command, as: t.principal(actor.account), reauthenticatedAt: act.reauthenticated ? t.now : nil)
        switch result {
        case .success: return "ok"
        case .failure(let error): return error.code.rawValue
        }
    }

    /// The table the rules give, in the document's Markdown.
    static func table() -> String {
        var lines = ["| request | target | " + ActorRole.allCases.map(\.column).joined(separator: " | ") + " |"]
        lines.append("|---|---|" + String(repeating: "---|", count: ActorRole.allCases.count))
        for act in acts {
            for target in TargetRole.allCases {
                let cells = ActorRole.allCases.map { outcome(of: act, actor: $0, target: target) }
                lines.append("| `\(act.request)` | \(target.rawValue) | " + cells.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n")
    }

    static let begin = "<!-- authority-lattice: generated by Tests/DeputyCoreTests/AuthorityLatticeTests.swift -->"
    static let end = "<!-- authority-lattice: end -->"

    static var documentURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/security.md")
    }

    @Test("every role against every role for every act on an account gives the documented outcome")
    func latticeMatchesDocument() throws {
        let generated = Self.table()
        let document = try String(contentsOf: Self.documentURL, encoding: .utf8)
        guard let start = document.range(of: Self.begin), let stop = document.range(of: Self.end) else {
            Issue.record("docs/security.md lacks the markers \(Self.begin) and \(Self.end)")
            return
        }
        let documented = document[start.upperBound..<stop.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        if ProcessInfo.processInfo.environment["DEPUTY_WRITE_DOCS"] == "1" {
            let updated = document.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: "\n" + generated + "\n")
            try updated.write(to: Self.documentURL, atomically: true, encoding: .utf8)
            return
        }
        let documentedRows = documented.split(separator: "\n").map(String.init)
        let generatedRows = generated.split(separator: "\n").map(String.init)
        for (row, expected) in generatedRows.enumerated() where row >= documentedRows.count || documentedRows[row] != expected {
            Issue.record("docs/security.md row \(row + 1) says \(row < documentedRows.count ? documentedRows[row] : "nothing"); the rules give \(expected)")
        }
        #expect(documentedRows.count == generatedRows.count, "rows: document \(documentedRows.count), rules \(generatedRows.count)")
    }

    @Test("the lattice keeps the order: nobody acts on an account at or above its own, but on itself where allowed")
    func latticeKeepsTheOrder() {
        let level: [String: Int] = ["user": 0, "administrator": 2, "superadmin": 3]
        func actorLevel(_ actor: ActorRole) -> Int {
            switch actor {
            case .user: 0
            case .custom: 1
            case .administrator: 2
            case .superAdministrator: 3
            }
        }
        let targetLevel: [TargetRole: Int] = [.user: 0, .customAdministrator: 1, .administrator: level["administrator"]!, .superAdministrator: level["superadmin"]!]
        for act in Self.acts {
            for actor in ActorRole.allCases {
                for target in TargetRole.allCases where target != .itself {
                    guard let targetRank = targetLevel[target], actorLevel(actor) <= targetRank,
                        !(actor == .superAdministrator && target == .superAdministrator)
                    else { continue }
                    let result = Self.outcome(of: act, actor: actor, target: target)
                    #expect(result != "ok", "\(actor.column) could \(act.request) on \(target.rawValue)")
                }
            }
        }
    }
}

extension AuthorityLatticeTests.ActorRole: Equatable {}
