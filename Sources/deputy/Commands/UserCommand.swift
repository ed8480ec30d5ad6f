import ArgumentParser
import DeputyCore
import DeputyProtocol

/// `deputy user ...`
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Add, change, show and remove users.",
        subcommands: [Add.self, Delete.self, Modify.self, Show.self, List.self, Passwd.self, Block.self, Unblock.self]
    )

    struct Add: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The user's address.") var address: String
        @Option(help: "The display name.") var name: String?
        @Option(name: .customLong("alias"), help: "An alias address (repeatable).") var aliases: [String] = []
        @Option(help: "The recovery address.") var recovery: String?
        @Option(help: "The email policy.") var policy: String?
        @Option(help: "A file (mode 600) with the new user's password.") var newPasswordFile: String?
        @Flag(help: "Ask for the new user's password.") var askPassword = false

        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let password = try NewPassword.read(file: newPasswordFile, ask: askPassword, for: address)
            return try await session.run(.add(.user(Request.NewUserRequest(
                address: try ArgumentValues.address(address, "the address"), password: password, name: name,
                recovery: try ArgumentValues.optionalAddress(recovery, "the recovery address"),
                aliases: try ArgumentValues.addresses(aliases, "an alias"), policy: policy
            ))))
        }
    }

    struct Delete: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user, with every delegation and membership naming them.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.delete(.user(try ArgumentValues.address(address, "the address"))))
        }
    }

    struct Modify: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Change a user.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        @Option(help: "The display name.") var name: String?
        @Option(help: "The recovery address (empty to clear).") var recovery: String?
        @Option(help: "Add an alias.") var addAlias: String?
        @Option(help: "Remove an alias.") var removeAlias: String?
        @Option(help: "The email policy (empty for the default).") var policy: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let recoveryUpdate: FieldUpdate<EmailAddress>? = try recovery.map { $0.isEmpty ? .clear : .set(try ArgumentValues.address($0, "the recovery address")) }
            return try await session.run(.modify(.user(try ArgumentValues.address(address, "the address"), UserChanges(
                displayName: name, recoveryAddress: recoveryUpdate,
                addAliases: try ArgumentValues.addresses(addAlias.map { [$0] } ?? [], "an alias"),
                removeAliases: try ArgumentValues.addresses(removeAlias.map { [$0] } ?? [], "an alias"),
                policy: ArgumentValues.update(policy)
            ))))
        }
    }

    struct Show: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user's entry.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "An address or distinguished name.") var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.entry(address)))
        }
    }

    struct List: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "An extra LDAP-style filter, e.g. (blocked=yes).") var filter: String?
        @Option(help: "At most this many.") var limit: Int?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            guard var filter else {
                return try await session.run(.query(.search(try ArgumentValues.search("(objectClass=deputyUser)", limit: limit))))
            }
            // `blocked=yes` as `(blocked=yes)`; checked alone first, so that an error's offset
            // is in the text the user typed, not in the filter built around it.
            if !filter.hasPrefix("(") { filter = "(\(filter))" }
            _ = try ArgumentValues.search(filter)
            return try await session.run(.query(.search(try ArgumentValues.search("(&(objectClass=deputyUser)\(filter))", limit: limit))))
        }
    }

    struct Passwd: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Set a password; your own needs the current one.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The login whose password changes (default: your own).") var login: String?
        @Option(help: "A file (mode 600) with the new password.") var newPasswordFile: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            let target = login ?? session.options.user ?? ""
            var old: String?
            if target.lowercased() == session.options.user?.lowercased() {
                old = try PasswordSource.password(file: session.options.passwordFile, prompt: "Current password: ")
            }
            let new = try NewPassword.read(file: newPasswordFile, ask: true, for: target)
            guard let new, !new.isEmpty else { throw CLIError(.usage, "the new password can't be empty") }
            return try await session.run(.passwd(login: target, old: old, new: new))
        }
    }

    struct Block: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Block an account: it can't log in and gets no rights.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.modify(.userBlocked(try ArgumentValues.address(address, "the address"), true)))
        }
    }

    struct Unblock: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Unblock an account.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.modify(.userBlocked(try ArgumentValues.address(address, "the address"), false)))
        }
    }
}

/// A new password for someone: from a file, or asked twice on the terminal.
enum NewPassword {
    static func read(file: String?, ask: Bool, for login: String) throws -> String? {
        if let file { return try PasswordSource.read(NamedFile(path: file, what: "the new password file")) }
        guard ask else { return nil }
        let first = try PasswordSource.ask("New password for \(login): ")
        let second = try PasswordSource.ask("Again: ")
        guard first == second else { throw CLIError(.usage, "the passwords differ") }
        guard !first.isEmpty else { throw CLIError(.usage, "the password is empty") }
        return first
    }
}
