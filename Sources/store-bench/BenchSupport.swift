import DeputyBenchData
import DeputyCore
import Foundation

/// The command-line options, `--name value` pairs.
struct BenchOptions {
    var users = 100_000
    var groups = 10_000
    var delegations = 200_000
    var journalRecords = 1_000_000
    var writers = 50
    var commits = 100_000

    init(_ arguments: ArraySlice<String>) {
        var arguments = arguments
        while let name = arguments.popFirst() {
            guard let text = arguments.popFirst(), let value = Int(text) else {
                fatalError("usage: store-bench [--users N] [--groups N] [--delegations N] [--journal-records N] [--writers N] [--commits N]")
            }
            switch name {
            case "--users": users = value
            case "--groups": groups = value
            case "--delegations": delegations = value
            case "--journal-records": journalRecords = value
            case "--writers": writers = value
            case "--commits": commits = value
            default: fatalError("unknown option \(name)")
            }
        }
    }
}

/// Commands for filling a journal: the organisation, then one new user per record.
struct JournalWorkload: Sendable {
    static let time = Date(timeIntervalSince1970: 1_800_000_000)
    static let systemContext = CommandContext(actor: .system, time: time)

    let records: Int
    let hash: PasswordHash

    var context: CommandContext { Self.systemContext }

    var createOrganization: Command {
        .createOrganization(NewOrganization(
            name: "Journal", domain: DomainName("journal.test")!, superAdministrator: EmailAddress("boss@journal.test")!,
            superAdministratorName: "Boss", passwordHash: hash
        ))
    }

    func command(_ index: Int) -> Command {
        .addUser(NewUser(address: EmailAddress("user\(index)@journal.test")!, displayName: "User \(index)", passwordHash: hash))
    }
}
