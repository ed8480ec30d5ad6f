import ArgumentParser
import DeputyCore
import DeputyProtocol

/// `deputy group ...`
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Add, change, show and remove groups and their members.",
        subcommands: [Add.self, Delete.self, Modify.self, Show.self, Members.self, AddMember.self, RemoveMember.self]
    )

    struct Add: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Add a group.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        @Option(help: "The group's name.") var name: String?
        @Option(help: "organization or personal.") var kind: String?
        @Flag(help: "Let members send as the group's address.") var sendAs = false
        @Option(name: .customLong("member"), help: "A member (repeatable).") var members: [String] = []
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.add(.group(Request.NewGroupRequest(
                address: try ArgumentValues.address(address, "the address"), name: name, kind: try ArgumentValues.groupKind(kind),
                membersMaySendAs: sendAs, members: try ArgumentValues.addresses(members, "a member")
            ))))
        }
    }

    struct Delete: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a group and the delegations to it.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.delete(.group(try ArgumentValues.address(address, "the address"))))
        }
    }

    struct Modify: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Change a group.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        @Option(help: "The group's name.") var name: String?
        @Option(help: "yes or no: may members send as the group?") var sendAs: String?
        @Option(help: "The email policy for members (empty for none).") var policy: String?
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.modify(.group(try ArgumentValues.address(address, "the address"), GroupChanges(
                name: name, membersMaySendAs: try ArgumentValues.yesNo(sendAs, option: "send-as"), policy: ArgumentValues.update(policy)
            ))))
        }
    }

    struct Show: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "Show a group's entry.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.entry(address)))
        }
    }

    struct Members: DeputyCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's members.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var address: String
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.query(.members(group: address)))
        }
    }

    struct AddMember: DeputyCommand {
        static let configuration = CommandConfiguration(commandName: "add-member", abstract: "Add members to a group.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var group: String
        @Argument var members: [String]
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.modify(.group(try ArgumentValues.address(group, "the group"), GroupChanges(addMembers: try ArgumentValues.addresses(members, "a member")))))
        }
    }

    struct RemoveMember: DeputyCommand {
        static let configuration = CommandConfiguration(commandName: "remove-member", abstract: "Remove members from a group.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var group: String
        @Argument var members: [String]
        func perform(_ session: DeputySession) async throws -> ExitStatus {
            try await session.run(.modify(.group(try ArgumentValues.address(group, "the group"), GroupChanges(removeMembers: try ArgumentValues.addresses(members, "a member")))))
        }
    }
}
