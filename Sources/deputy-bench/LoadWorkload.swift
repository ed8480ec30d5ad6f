import DeputyMailAdapters
import ArgumentParser
import DeputyBenchData
import DeputyCore
import DeputyProtocol

/// What the load benchmark asks, built from the bench dataset so that hits really hit.
enum LoadWorkload: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// `QUERY SENDAS`: a quarter own addresses, a quarter delegated send-as grants, a quarter
    /// refusals, a quarter of those again in mixed case.
    case sendas
    /// `QUERY DELEGATES <mailbox>`.
    case delegates
    /// `QUERY MAILBOXES <login>`.
    case mailboxes
    /// `QUERY SENDERS <address>`.
    case senders
    /// Nine in ten `sendas` queries, one in ten durable writes (`DELEGATE` then `UNDELEGATE`).
    case mixed
    /// Durable writes only: `DELEGATE` and `UNDELEGATE` in turn.
    case writes
    /// Logins: `BIND` as random dataset users (each costs a password hash on the daemon's
    /// hashing pool).
    case binds
    /// Password guesses: `BIND` as one account with a wrong password, as a brute-force
    /// attacker would; every one must be refused, and each still costs a hash.
    case guesses
    /// Postfix socketmap `senders` lookups over plaintext (``SocketmapLoad``), not TLS.
    case socketmap

    /// Whether the pool asks `QUERY SENDAS`, a third of it about the grants of
    /// ``sendAsGrants(in:)``.
    var usesSendAsGrants: Bool {
        switch self {
        case .sendas, .mixed: true
        case .delegates, .mailboxes, .senders, .writes, .binds, .guesses, .socketmap: false
        }
    }

    /// The send-as grants between users in `contents`, as (delegate's login, mailbox):
    /// worked out once for every connection's pool (100,000 users, 200,000 delegations
    /// in the bench dataset).
    static func sendAsGrants(in contents: DirectoryContents) -> [(login: String, mailbox: String)] {
        let addressOf = Dictionary(uniqueKeysWithValues: contents.users.map { ($0.id, $0.address.value) })
        return contents.delegations.filter { $0.permissions.contains(.sendAs) }.compactMap { delegation -> (login: String, mailbox: String)? in
            guard case .user(let delegate) = delegation.delegate, let login = addressOf[delegate], let mailbox = addressOf[delegation.mailbox] else { return nil }
            return (login, mailbox)
        }
    }

    /// Requests to cycle through: a fixed pool, built once, so the measured loop allocates
    /// nothing but the requests' wire bytes.
    func requests(dataset: BenchDataset, grants: [(login: String, mailbox: String)], connection: Int) -> [Request] {
        var random = BenchRandom(seed: UInt64(0xBE7C + connection))
        let users = dataset.users
        func sendas(_ index: Int) -> Request {
            let user = random.below(users)
            let (login, address): (String, String)
            switch index % 3 {
            case 0: (login, address) = (BenchDataset.user(user), BenchDataset.alias(user))
            case 1: (login, address) = grants.isEmpty ? (BenchDataset.user(user), BenchDataset.user(user)) : grants[random.below(grants.count)]
            default: (login, address) = (BenchDataset.user(user), BenchDataset.user((user + 1 + random.below(users - 1)) % users))
            }
            return random.below(4) == 0 ? .query(.sendAs(login: login.uppercased(), address: address.uppercased())) : .query(.sendAs(login: login, address: address))
        }
        // Writes delegate a mailbox to the super administrator, who holds no delegation in
        // the dataset, and take it back: the directory ends as it began.
        let admin = EmailAddress("admin@\(BenchDataset.domain)")!
        func write(_ index: Int) -> [Request] {
            let mailbox = EmailAddress(BenchDataset.user((connection * 7_919 + index) % users))!
            return [
                .delegate(NewDelegation(mailbox: mailbox, delegate: admin, permissions: PermissionSet([.read, .sendAs]))),
                .undelegate(mailbox: mailbox, delegate: admin),
            ]
        }
        let size = 4_096
        switch self {
        case .sendas: return (0..<size).map(sendas)
        case .delegates: return (0..<size).map { _ in .query(.delegates(mailbox: BenchDataset.user(random.below(users)))) }
        case .mailboxes: return (0..<size).map { _ in .query(.mailboxes(user: BenchDataset.user(random.below(users)))) }
        case .senders: return (0..<size).map { _ in .query(.senders(address: random.below(2) == 0 ? BenchDataset.user(random.below(users)) : BenchDataset.alias(random.below(users)))) }
        case .mixed: return (0..<size / 20).flatMap { index in (0..<18).map { sendas(index * 18 + $0) } + write(index) }
        case .writes: return (0..<size / 2).flatMap(write)
        case .binds: return (0..<size).map { _ in .bind(login: BenchDataset.user(random.below(users)), password: LoadBenchmark.datasetPassword) }
        case .guesses: return (0..<size).map { .bind(login: BenchDataset.user(0), password: "guess-\(connection)-\($0)") }
        case .socketmap: return []
        }
    }
}
