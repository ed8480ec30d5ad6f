import ArgumentParser

/// `deputy`: the administrator's client for a Deputy directory.
@main
struct Deputy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deputy",
        abstract: "Manage a Deputy directory from your own machine.",
        discussion: """
            Connection defaults come from ~/.config/deputy/config.json; flags win over it.
            Passwords come from --password-file (mode 600), DEPUTY_PASSWORD, or a prompt; never a flag.
            Exit status: 0 success (or yes); 1 a yes/no query answered no; 2 the server refused;
            3 connection, trust or login failed; 64 wrong command line.
            Shell completion: deputy --generate-completion-script bash|zsh|fish.
            """,
        version: "0.1.0",
        subcommands: [
            UserCommand.self, GroupCommand.self, RoleCommand.self, DelegationCommand.self, PolicyCommand.self,
            OrgCommand.self, QueryCommand.self, AuditCommand.self, WhoAmI.self, Ping.self, Raw.self, Shell.self,
            ImportCommand.self, ExportCommand.self,
        ]
    )
}
