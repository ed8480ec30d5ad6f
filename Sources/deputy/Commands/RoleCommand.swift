import ArgumentParser
import DeputyCore
import DeputyProtocol

/// `deputy role grant|revoke`
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Grant and revoke roles: admin, superadmin, and the custom administrator roles.",
        subcommands: [Grant.self, Revoke.self]
    )

    struct Grant: DeputyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grant a role.",
            discussion: "Roles: admin, superadmin (hands the role over; asks for your password again, and a code where you have a second factor), usermanagement, groupmanagement, spamcontrol, helpdesk, quarantine, marketplacedeveloper."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument var role: String
        @Argument var login: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let request = Request.grant(try ArgumentValues.role(role), login: try ArgumentValues.address(login, "the login"))
            if role.lowercased() == "superadmin" {
                // The transfer needs a fresh proof of the password (and of the second factor,
                // where there is one), asked for here rather than reusing the login's.
                if let refusal = try await session.reauthenticate(purpose: "transfer the super administrator role") {
                    session.printer.printStatus(refusal.status)
                    return DeputySession.status(ofRefusedReauthentication: refusal)
                }
            }
            // Granting admin needs a fresh second factor where the actor has one.
            return try await session.runReauthenticating(request)
        }
    }

    struct Revoke: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke admin or a custom administrator role.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var role: String
        @Argument var login: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let role = try ArgumentValues.role(role)
            guard role != .superAdministrator else {
                throw CLIError(.usage, "the super administrator role is handed over with `deputy role grant superadmin`, never revoked")
            }
            return try await session.run(.revoke(role, login: try ArgumentValues.address(login, "the login")))
        }
    }
}

/// `deputy delegation add|remove|list|show`
struct DelegationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegation", abstract: "Delegate mailboxes: the delegate acts as itself, no password is shared.",
        subcommands: [Add.self, Remove.self, List.self, Show.self]
    )

    struct Add: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Delegate a mailbox to a user or group (again to change it).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var mailbox: String
        @Argument var delegate: String
        @Option(help: "Comma list of read, manage, sendonbehalf, sendas.") var permissions: String
        @Option(help: "When it stops counting, RFC 3339 (e.g. 2026-12-31T00:00:00Z).") var expires: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.delegate(NewDelegation(
                mailbox: try ArgumentValues.address(mailbox, "the mailbox"), delegate: try ArgumentValues.address(delegate, "the delegate"),
                permissions: try ArgumentValues.permissions(permissions), expiresAt: try ArgumentValues.time(expires, option: "expires")
            )))
        }
    }

    struct Remove: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a delegation.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var mailbox: String
        @Argument var delegate: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.undelegate(
                mailbox: try ArgumentValues.address(mailbox, "the mailbox"), delegate: try ArgumentValues.address(delegate, "the delegate")
            ))
        }
    }

    struct List: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "List every delegation of the organisation (administrators).")
        @OptionGroup var connection: ConnectionOptions
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.delegations(offset: 0)))
        }
    }

    struct Show: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Show the delegates of one mailbox.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var mailbox: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.delegates(mailbox: mailbox)))
        }
    }
}

/// `deputy policy show|set`
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Email policies: whether users may delegate their own mailbox.",
        subcommands: [Show.self, Set.self]
    )

    struct Show: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "List the policies.")
        @OptionGroup var connection: ConnectionOptions
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.policies))
        }
    }

    struct Set: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Create or change a policy.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Option(help: "on or off: may users under this policy delegate their own mailbox?") var delegation: String
        @Flag(help: "Make it the organisation's default policy.") var makeDefault = false
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            guard let allowed = try ArgumentValues.yesNo(delegation, option: "delegation") else { throw CLIError(.usage, "--delegation takes on or off") }
            let modify = try await session.send(.modify(.policy(name: name, mailboxDelegation: allowed)))
            var status: ExitStatus
            if case .error(let code, _) = modify.status, code == .notfound {
                status = try await session.run(.add(.policy(name: name, mailboxDelegation: allowed)))
            } else {
                session.printer.print(modify)
                status = modify.status.isOK ? .success : .refused
            }
            if status == .success, makeDefault {
                status = try await session.run(.modify(.organization(OrganizationChanges(defaultPolicy: name))))
            }
            return status
        }
    }
}

/// `deputy org show|set`
struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "The organisation's name, logo and settings.", subcommands: [Show.self, Set.self]
    )

    struct Show: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Show the organisation.")
        @OptionGroup var connection: ConnectionOptions
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.organization))
        }
    }

    struct Set: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Change the organisation (name and logo: super administrator only).")
        @OptionGroup var connection: ConnectionOptions
        @Option var name: String?
        @Option(help: "A reference such as a URL (empty to clear).") var logo: String?
        @Option(help: "Who creates organisation groups: off, superadmin, admins, all.") var orgGroups: String?
        @Option(help: "Who creates personal groups: off, superadmin, admins, all.") var personalGroups: String?
        @Option(help: "yes or no: may personal groups hold outside members?") var personalExternal: String?
        @Option(help: "yes or no: may organisation groups hold outside members?") var orgExternal: String?
        @Option(help: "Local parts personal groups may not take, comma-separated (empty: only the RFC 2142 role addresses).") var reserved: String?
        @Option(help: "The default email policy.") var defaultPolicy: String?
        @Option(help: "yes or no: must administrators and custom administrators have a second factor to act?") var adminFactor: String?
        @Option(help: "Days the audit log keeps a record, dropped in blocks of 512 (0: every record, the default; super administrator only).") var auditDays: Int?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.runReauthenticating(.modify(.organization(OrganizationChanges(
                name: name, logo: ArgumentValues.update(logo), defaultPolicy: defaultPolicy,
                organizationGroups: try ArgumentValues.groupLevel(orgGroups, option: "org-groups"),
                personalGroups: try ArgumentValues.groupLevel(personalGroups, option: "personal-groups"),
                personalGroupsAllowExternal: try ArgumentValues.yesNo(personalExternal, option: "personal-external"),
                organizationGroupsAllowExternal: try ArgumentValues.yesNo(orgExternal, option: "org-external"),
                reservedLocalParts: reserved.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) },
                requireAdministratorFactor: try ArgumentValues.yesNo(adminFactor, option: "admin-factor"), auditRetentionDays: auditDays
            ))))
        }
    }
}
