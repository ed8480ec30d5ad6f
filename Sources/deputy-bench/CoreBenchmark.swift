import HashTreeCollections
import ArgumentParser
import DeputyBenchData
import DeputyCore
import DeputyMailAdapters
import DeputyStore
import Foundation

/// Times building the directory and its main queries in process, on one core.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Build a directory in memory and time its main queries on one core."
    )

    @Option(help: "Users in the dataset.") var users = 100_000
    @Option(help: "Groups in the dataset.") var groups = 10_000
    @Option(help: "Delegations in the dataset.") var delegations = 200_000
    @Option(help: "Queries timed per kind.") var iterations = 1_000_000
    @Option(help: "Times to run the whole set of queries (later rounds run on warm pages).") var rounds = 1
    @Option(help: "Time only the queries whose names start with this (for profiling one of them).") var only: String?
    @Flag(help: "Also build the directory by applying one command per entry, as an administrator would.") var viaCommands = false
    @Option(help: "Also apply this many logged records (DELEGATE and UNDELEGATE in turn, as `load --workload writes` sends them) the way a cluster node follows the log: encoded as a writer logs them, decoded from their bytes, applied, published every --publish-every.") var logRecords = 0
    @Option(help: "Publish the directory after this many logged records (8: about a catch-up's records under `scripts/cluster-bench`'s 50 writers; 1: every record, as at a low write rate). Each publish lets the version before go, so the next change copies the maps' nodes on its path again.") var publishEvery = 8

    @Option(help: "Also time this many snapshot saves of the directory as a cluster node writes its local state: encoded on one thread, then written with a header line, fsynced and renamed into place.") var snapshotSaves = 0

    func run() throws {
        let dataset = BenchDataset(users: users, groups: groups, delegations: delegations)
        let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("bench")
        let contents = dataset.contents(passwordHash: hash)
        print("dataset: \(users) users, \(groups) groups, \(contents.delegations.count) delegations")

        let buildStart = ContinuousClock.now
        let directory = try Directory(contents: contents)
        let buildTime = ContinuousClock.now - buildStart
        print(String(format: "build from contents: %.3f s", buildTime.seconds))
        print("resident memory: \(ResidentMemory.current() / 1_048_576) MiB")

        if viaCommands { try buildViaCommands(contents: contents, now: dataset.now) }
        if logRecords > 0 { try applyLogged(to: directory, now: dataset.now) }
        if snapshotSaves > 0 { try saveSnapshots(of: directory) }

        var random = BenchRandom(seed: 7)
        let logins = (0..<4096).map { _ in BenchDataset.user(random.below(users)) }
        let delegated = contents.delegations.filter { $0.permissions.contains(.sendAs) && $0.expiresAt == nil }
        let pairs: [(String, String)] = (0..<4096).map { i in
            let delegation = delegated[i % delegated.count]
            // Fresh strings, as a request parser makes them, not the directory's own.
            let owner = String(decoding: Array(directory.users[delegation.mailbox]!.address.value.utf8), as: UTF8.self)
            switch delegation.delegate {
            case .user(let id): return (directory.users[id]!.address.value.uppercased(), owner)
            case .group(let id): return (directory.users[directory.groups[id]!.members.first.map { member -> EntityID in
                if case .user(let id) = member { return id }
                return delegation.mailbox
            }!]!.address.value.uppercased(), owner)
            }
        }
        let ownPairs = (0..<4096).map { _ in
            let n = random.below(users)
            return (BenchDataset.user(n), BenchDataset.alias(n))
        }
        let now = dataset.now
        var sink = 0
        for round in 1...max(1, rounds) {
            if rounds > 1 { print("round \(round)") }
            measure("sendas (delegated, hit)", iterations) { i in
                let pair = pairs[i & 4095]
                if directory.sendAs(login: pair.0, address: pair.1, at: now).allowed { sink += 1 }
            }
            measure("sendas (own alias)", iterations) { i in
                let pair = ownPairs[i & 4095]
                if directory.sendAs(login: pair.0, address: pair.1, at: now).allowed { sink += 1 }
            }
            measure("sendas (miss)", iterations) { i in
                if directory.sendAs(login: logins[i & 4095], address: logins[(i + 1) & 4095], at: now).allowed { sink += 1 }
            }
            measure("senders", iterations / 4) { i in
                sink += directory.senders(of: pairs[i & 4095].1, at: now).count
            }
            measure("mailboxes", iterations / 4) { i in
                sink += directory.mailboxes(of: logins[i & 4095], at: now)?.count ?? 0
            }
            measure("delegates", iterations / 4) { i in
                sink += directory.delegates(of: logins[i & 4095], at: now)?.count ?? 0
            }
            measure("access", iterations / 4) { i in
                let pair = pairs[i & 4095]
                sink += directory.access(user: pair.0, mailbox: pair.1, at: now)?.grants.count ?? 0
            }
            // What Dovecot's acl_sharing_map asks the dict listener at each IMAP login: the
            // mailboxes shared with anyone, with every authenticated user, and with this user.
            measure("dovecot dict (a login)", max(1, iterations / 1_000)) { i in
                for owner in ["anyone/", "authenticated/", "user/\(logins[i & 4095])/"] {
                    sink += SharedMailboxMap.iterate(SharedMailboxMap.prefix + owner, flags: [.recurse], limit: 10_000, in: directory, at: now).count
                }
            }
            // Searches that no index narrows, each a scan of every user: a substring in the
            // middle of a name (as an administrator, and as a user, who sees no private
            // attributes but their own), and a first page of everything, as `deputy export`
            // asks for it.
            let substring = try SearchFilterParser.parse("(cn=*zq*)")
            let everything = try SearchFilterParser.parse("(objectclass=*)")
            let viewer = EntryVisibility.publicAttributes(ownEntry: directory.users.keys.min())
            measure("search (cn=*zq*), admin", max(1, iterations / 200_000)) { _ in
                sink += directory.search(substring, limit: 5).entries.count
            }
            measure("search (cn=*zq*), user", max(1, iterations / 200_000)) { _ in
                sink += directory.search(substring, limit: 5, seenAs: viewer).entries.count
            }
            measure("search everything, 1000", max(1, iterations / 200_000)) { _ in
                sink += directory.search(everything, limit: 1_000).entries.count
            }
            // What `dovecot-acl` writes after a change: the whole file, every delegation in it.
            measure("dovecot acl file", max(1, iterations / 500_000)) { _ in
                sink += DovecotACLFile.contents(of: directory, at: now).text.utf8.count
            }
        }
        print("(checksum \(sink))")
    }

    private func buildViaCommands(contents: DirectoryContents, now: Date) throws {
        let start = ContinuousClock.now
        var directory = Directory()
        let context = CommandContext(actor: .system, time: now)
        let superAdmin = contents.users[0]
        directory.apply(.createOrganization(NewOrganization(name: "Bench", domain: DomainName(BenchDataset.domain)!, superAdministrator: superAdmin.address, superAdministratorName: superAdmin.displayName, passwordHash: superAdmin.passwordHash)), context: context)
        var addresses: [EntityID: EmailAddress] = [:]
        for user in contents.users.dropFirst() {
            addresses[user.id] = user.address
            directory.apply(.addUser(NewUser(address: user.address, displayName: user.displayName, passwordHash: user.passwordHash, aliases: user.aliases)), context: context)
        }
        for group in contents.groups {
            addresses[group.id] = group.address
            let members = group.members.compactMap { member -> EmailAddress? in
                if case .user(let id) = member { return addresses[id] }
                return nil
            }
            directory.apply(.addGroup(NewGroup(address: group.address, name: group.name, kind: .organization, members: members, membersMaySendAs: group.membersMaySendAs)), context: context)
        }
        for delegation in contents.delegations {
            let delegate: EntityID
            switch delegation.delegate {
            case .user(let id), .group(let id): delegate = id
            }
            directory.apply(.delegate(NewDelegation(mailbox: addresses[delegation.mailbox]!, delegate: addresses[delegate]!, permissions: delegation.permissions, expiresAt: delegation.expiresAt)), context: context)
        }
        let elapsed = ContinuousClock.now - start
        guard directory.delegations.count == contents.delegations.count else {
            throw ValidationError("building through commands lost entries: \(directory.delegations.count) delegations")
        }
        print(String(format: "build via %d commands (with audit log): %.3f s", directory.auditLog.count, elapsed.seconds))
    }

    /// What a cluster node spends on each record of the log: decoding its bytes, applying
    /// it, and publishing the directory after each batch (``publishEvery`` records), which
    /// releases the version before.
    private func applyLogged(to start: Directory, now: Date) throws {
        guard publishEvery > 0 else { throw ValidationError("--publish-every must be at least 1") }
        let coder = LoggedCommandCoder()
        guard let superAdministrator = start.superAdministrator else { throw ValidationError("the dataset has no super administrator") }
        let admin = EmailAddress("admin@\(BenchDataset.domain)")!
        let context = CommandContext(actor: .user(superAdministrator), time: now)
        let encodeStart = ContinuousClock.now
        let bodies = try (0..<logRecords).map { index -> [UInt8] in
            let mailbox = EmailAddress(BenchDataset.user(1 + (index / 2 * 7_919) % (users - 1)))!
            let command: Command = index % 2 == 0
                ? .delegate(NewDelegation(mailbox: mailbox, delegate: admin, permissions: PermissionSet([.read, .sendAs])))
                : .undelegate(mailbox: mailbox, delegate: admin)
            return try coder.encode(LoggedCommand(context: context, command: command))
        }
        let encoding = ContinuousClock.now - encodeStart
        let decodeStart = ContinuousClock.now
        var records: [LoggedCommand] = []
        records.reserveCapacity(bodies.count)
        for body in bodies { records.append(try coder.decode(body)) }
        let decoding = ContinuousClock.now - decodeStart
        let live = LiveDirectory(start)
        var directory = start
        var refused = 0
        let applyStart = ContinuousClock.now
        for (index, record) in records.enumerated() {
            if case .failure = directory.apply(record.command, context: record.context) { refused += 1 }
            if index % publishEvery == publishEvery - 1 { live.publish(directory) }
        }
        live.publish(directory)
        let applying = ContinuousClock.now - applyStart
        guard refused == 0 else { throw ValidationError("\(refused) of the logged records were refused") }
        print(String(format: "logged records: encode (with the read-back check) %.2f µs, decode %.2f µs, apply and publish %.2f µs a record (%d records, %.0f bytes each, published every %d)",
                     encoding.seconds * 1e6 / Double(logRecords), decoding.seconds * 1e6 / Double(logRecords), applying.seconds * 1e6 / Double(logRecords), logRecords,
                     Double(bodies.reduce(0) { $0 + $1.count }) / Double(logRecords), publishEvery))
    }

    /// What a snapshot save costs: the encoding on one thread, and the write (a header
    /// line, then the bytes, fsynced and renamed into place), in wall and CPU time.
    private func saveSnapshots(of directory: Directory) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-bench-snapshot-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".tmp")
        }
        for save in 1...snapshotSaves {
            let (wallStart, cpuStart) = (ContinuousClock.now, processCPUTime())
            let bytes = try PortableSnapshot.encode(directory, parallel: false)
            let (wallEncoded, cpuEncoded) = (ContinuousClock.now, processCPUTime())
            try PortableSnapshot.write(header: Array("deputy-bench snapshot \(save)\n".utf8), bytes, to: path)
            let (wallEnd, cpuEnd) = (ContinuousClock.now, processCPUTime())
            print(String(format: "snapshot save %d: %.1f MB; encode %.3f s (CPU %.3f s), write %.3f s (CPU %.3f s)",
                         save, Double(bytes.count) / 1e6, (wallEncoded - wallStart).seconds, cpuEncoded - cpuStart,
                         (wallEnd - wallEncoded).seconds, cpuEnd - cpuEncoded))
        }
    }

    private func measure(_ name: String, _ count: Int, _ body: (Int) -> Void) {
        if let only, !name.hasPrefix(only) { return }
        for i in 0..<min(count, 10_000) { body(i) }
        let start = ContinuousClock.now
        for i in 0..<count { body(i) }
        let elapsed = ContinuousClock.now - start
        print(String(format: "%-26@ %8.0f ns/op  (%d ops)", name as NSString, elapsed.seconds * 1e9 / Double(count), count))
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The process's resident memory, from /proc.
enum ResidentMemory {
    static func current() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * 4096
    }
}
