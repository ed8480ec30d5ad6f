import ArgumentParser

/// The Deputy directory daemon.
@main
struct Deputyd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deputyd",
        abstract: "The Deputy directory daemon: one mail organisation's users, groups, roles and delegations over TLS.",
        version: "0.1.0",
        subcommands: [Serve.self, Initialize.self, Check.self, CheckConfig.self, Backup.self, Restore.self, Health.self, Cluster.self],
        defaultSubcommand: Serve.self
    )
}
