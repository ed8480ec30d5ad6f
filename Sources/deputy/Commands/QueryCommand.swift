import ArgumentParser
import DeputyProtocol

/// `deputy query ...`: the questions mail servers ask, for people and scripts.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Ask the directory.",
        subcommands: [SendAs.self, SendOnBehalf.self, Access.self, Delegates.self, Mailboxes.self, Senders.self, Search.self, Privileges.self, Members.self, Entry.self]
    )

    struct SendAs: DeputyCommand {
        static let configuration = CommandConfiguration(
            commandName: "sendas", abstract: "May LOGIN send as ADDRESS? Exit 0 for yes, 1 for no, 2 or 3 for errors."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument var login: String
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await yesNo(session, .sendAs(login: login, address: address))
        }
    }

    struct SendOnBehalf: DeputyCommand {
        static let configuration = CommandConfiguration(commandName: "sendonbehalf", abstract: "May LOGIN send on behalf of ADDRESS? Exit 0 yes, 1 no.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var login: String
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await yesNo(session, .sendOnBehalf(login: login, address: address))
        }
    }

    struct Access: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The rights USER holds on MAILBOX.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var user: String
        @Argument var mailbox: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.access(user: user, mailbox: mailbox))) }
    }

    struct Delegates: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The delegates of MAILBOX.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var mailbox: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.delegates(mailbox: mailbox))) }
    }

    struct Mailboxes: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The mailboxes USER may open.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var user: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.mailboxes(user: user))) }
    }

    struct Senders: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The logins that may send as ADDRESS.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.senders(address: address))) }
    }

    struct Search: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Entries matching an LDAP-style filter, e.g. '(&(objectClass=person)(cn=A*))'.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var filter: String
        @Option var limit: Int?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.search(try ArgumentValues.search(filter, limit: limit))))
        }
    }

    struct Privileges: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The role, custom roles and privileges of USER.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var user: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.privileges(user: user))) }
    }

    struct Members: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "The members of GROUP.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var group: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.members(group: group))) }
    }

    struct Entry: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "One entry by address or distinguished name.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var key: String
        func perform(_ session: DeputySession) async throws -> ExitStatus { try await session.run(.query(.entry(key))) }
    }
}

/// Runs a yes/no query and turns `allowed=` into the exit status.
private func yesNo(_ session: DeputySession, _ query: Request.Query) async throws -> ExitStatus {
    let reply = try await session.send(.query(query))
    session.printer.print(reply)
    guard reply.status.isOK else { return ExitStatus(reply.status) }
    guard let allowed = reply.records.first?["allowed"] else { return .refused }
    return allowed == "yes" ? .success : .no
}
