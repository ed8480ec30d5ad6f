import ArgumentParser

/// `deputy`: the administrator's client for a Deputy directory.
@main
struct Deputy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deputy",
        abstract: "Manage a Deputy directory from your own machine.",
        discussion: """
            Connection defaults come from ~/.config/deputy/config.json; flags win over it. The connection
            and output options (--server, --user, --ca, --fingerprint, -o, --verbose, ...) may come before
            the subcommand or after it.
            Passwords come from --password-file (mode 600), DEPUTY_PASSWORD, or a prompt; never a flag.
            Exit status: 0 success (or yes); 1 a yes/no query answered no; 2 the server refused;
            3 no connection; 4 the server's certificate is not trusted; 5 not found (an entry, or a file);
            6 the login was refused; 64 a wrong command line; 78 a local file that can't be used (profile,
            password file, input file) or written, standard output included.
            Shell completion: deputy --generate-completion-script bash|zsh|fish.
            """,
        version: "0.1.0",
        subcommands: [
            UserCommand.self, GroupCommand.self, RoleCommand.self, DelegationCommand.self, PolicyCommand.self,
            OrgCommand.self, QueryCommand.self, AuditCommand.self, WhoAmI.self, Ping.self, Raw.self, Shell.self,
            ImportCommand.self, ExportCommand.self, MFACommand.self,
        ]
    )

    /// Parses with the options before the subcommand moved after it (see ``GlobalOptions``).
    static func main() async {
        await main(GlobalOptions.reordered(Array(CommandLine.arguments.dropFirst())))
    }
}
