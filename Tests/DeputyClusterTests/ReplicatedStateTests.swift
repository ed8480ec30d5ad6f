import Crypto
import DeputyCluster
import DeputyCore
import DeputyStore
import Foundation
import Glibc
import HashTreeCollections
import Testing

/// Several nodes on one log reach one directory: the same answers, the same bytes.
@Suite(.serialized)
struct ReplicatedStateTests {
    /// A run that uses every kind of command, refusals included, written through three
    /// nodes in turn: each node answers what a single directory applying the same commands
    /// in the same order answers, and every node ends with the same snapshot bytes as that
    /// directory.
    @Test func everyCommandKindGivesIdenticalStateOnEveryNode() async throws {
        try await ClusterHarness.run(nodes: 3) { harness in
            var reference = harness.initial
            let script = Self.script(reference)
            var kinds = Set<String>()
            var refusals = 0
            for (index, step) in script.enumerated() {
                let context = CommandContext(
                    actor: step.actor(reference), time: ClusterFixture.start.addingTimeInterval(1_000 + Double(index)),
                    reauthenticatedAt: step.reauthenticated ? ClusterFixture.start.addingTimeInterval(999 + Double(index)) : nil
                )
                let command = step.command(reference)
                let expected = reference.apply(command, context: context)
                let node = harness.nodes[index % harness.nodes.count]
                let answered = try await node.commit(command, context: context)
                #expect(answered == expected, "step \(index): \(command)")
                kinds.insert(Self.kind(of: command))
                if case .failure = expected { refusals += 1 }
            }
            #expect(kinds.count == Self.allKinds, "the script covers \(kinds.count) of \(Self.allKinds) kinds of command")
            #expect(refusals >= 5)

            try await harness.waitForConvergence()
            let expectedBytes = try PortableSnapshot.encode(reference)
            for node in harness.nodes {
                let (sequence, bytes) = try await node.applier.snapshotBytes()
                #expect(sequence == Int64(reference.revision))
                #expect(bytes == expectedBytes, "node \(node.settings.nodeName) differs from the reference directory")
                #expect(node.live.directory.consistencyProblems().isEmpty)
            }
            // Replayed again in two other processes, each with a hash seed of its own: the
            // same bytes. `deputyd cluster backup` starts from the first snapshot and applies
            // the whole log.
            let root = "/tmp/deputy-replay-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: root) }
            try "\(PostgresPair.deputyPassword)\n".write(toFile: root + "/pg-password", atomically: false, encoding: .utf8)
            chmod(root + "/pg-password", 0o600)
            let flags = harness.pair.ports.values.sorted().flatMap { ["--cluster-hosts", "localhost:\($0)"] }
                + ["--cluster-password-file", root + "/pg-password", "--cluster-ca", harness.pair.certificateAuthority]
            for replay in 0..<2 {
                try await Shell.run(DaemonNodeTests.daemon, ["cluster", "backup", "--to", root + "/replay\(replay).json"] + flags)
                let replayed = try Array(Data(contentsOf: URL(fileURLWithPath: root + "/replay\(replay).json")))
                #expect(replayed == expectedBytes, "replay \(replay) in a process of its own differs")
            }

            // The chain PostgreSQL computed is the one the nodes computed.
            let digests = await Set(harness.nodes.asyncMap { await $0.applier.appliedDigest })
            #expect(digests.count == 1)
            let headDigest = try await harness.pair.sqlOnPrimary("SELECT encode(digest, 'hex') FROM deputy_head")
            #expect(digests.first.map { $0.map { String(format: "%02x", $0) }.joined() } == headDigest)
        }
    }

    /// Every case of `Command`, by name: the script must use them all.
    static let allKinds = 27

    static func kind(of command: Command) -> String {
        String(describing: command).prefix { $0 != "(" }.description
    }

    /// One step: who acts and what, both read from the directory as it is before the step.
    struct Step {
        var actor: (Directory) -> Principal
        var command: (Directory) -> Command
        var reauthenticated = false
    }

    static func script(_ initial: Directory) -> [Step] {
        let A = ClusterFixture.address
        let hash = ClusterFixture.hash
        func by(_ name: String, reauthenticated: Bool = false, _ command: Command) -> Step {
            Step(actor: { ClusterFixture.principal(name, in: $0) }, command: { _ in command }, reauthenticated: reauthenticated)
        }
        func system(_ command: @escaping (Directory) -> Command) -> Step {
            Step(actor: { _ in .system }, command: command)
        }
        let delegationID: (Directory) -> EntityID = { directory in
            directory.delegations.values.first { $0.mailbox == directory.user(at: A("alice"))?.id }?.id ?? EntityID(999_999)
        }
        return [
            by("boss", .modifyOrganization(OrganizationChanges(name: "Acme Two", personalGroups: .allUsers))),
            by("admin0", .modifyOrganization(OrganizationChanges(name: "Not Allowed"))),
            by("admin0", .modifyOrganization(OrganizationChanges(auditRetentionDays: 1))),
            by("boss", reauthenticated: true, .modifyOrganization(OrganizationChanges(auditRetentionDays: 3_650))),
            by("boss", .addDomain(DomainName("example.test")!)),
            by("boss", .addUser(NewUser(address: A("alice"), displayName: "Alice", passwordHash: hash, aliases: [A("a.lice")]))),
            by("admin0", .addUser(NewUser(address: A("bob"), displayName: "Bob", passwordHash: hash))),
            by("admin1", .addUser(NewUser(address: A("carol"), displayName: "Carol", passwordHash: hash))),
            by("admin1", .addUser(NewUser(address: A("alice"), displayName: "Alice again", passwordHash: hash))),
            by("alice", .addUser(NewUser(address: A("mallory"), displayName: "Mallory", passwordHash: hash))),
            by("admin0", .modifyUser(A("alice"), UserChanges(displayName: "Alice A.", addAliases: [A("alice2")]))),
            by("admin0", .setPassword(A("bob"), hash)),
            by("bob", .setPassword(A("bob"), hash)),
            by("bob", reauthenticated: true, .setPassword(A("bob"), hash)),
            by("admin1", .setBlocked(A("carol"), true)),
            by("carol", .modifyUser(A("carol"), UserChanges(displayName: "Blocked Carol"))),
            by("admin1", .setBlocked(A("carol"), false)),
            by("boss", .setRole(A("bob"), .administrator)),
            by("admin0", .setRole(A("carol"), .administrator)),
            by("boss", .grantCustomRole(A("alice"), .helpdesk)),
            by("boss", .revokeCustomRole(A("alice"), .helpdesk)),
            by("admin2", .addGroup(NewGroup(address: A("team"), name: "Team", kind: .organization, members: [A("alice")]))),
            by("admin2", .addGroup(NewGroup(address: A("team"), name: "Team again", kind: .organization))),
            by("admin2", .modifyGroup(A("team"), GroupChanges(membersMaySendAs: true, addMembers: [A("carol")]))),
            by("boss", .addServiceAccount(ServiceName("postfix")!, hash)),
            by("boss", .setServicePassword(ServiceName("postfix")!, hash)),
            by("boss", .deleteServiceAccount(ServiceName("postfix")!)),
            by("alice", .delegate(NewDelegation(mailbox: A("alice"), delegate: A("carol"), permissions: PermissionSet([.read, .sendAs]), expiresAt: ClusterFixture.start.addingTimeInterval(86_400)))),
            system { .recordDelegatedSend(login: A("carol"), sender: A("alice"), delegation: delegationID($0)) },
            by("alice", .undelegate(mailbox: A("alice"), delegate: A("carol"))),
            by("alice", .undelegate(mailbox: A("alice"), delegate: A("carol"))),
            by("boss", .addPolicy(EmailPolicy(name: "strict", mailboxDelegationAllowed: false))),
            by("boss", .modifyPolicy(EmailPolicy(name: "strict", mailboxDelegationAllowed: true))),
            by("boss", .deletePolicy("strict")),
            by("boss", .deletePolicy("strict")),
            by("admin0", .modifySpamSettings(SpamChanges(blockSenders: [EmailAddress("spam@spam.test")!], blockDomains: [DomainName("spam.test")!], spfFailure: .markSpam))),
            by("alice", .modifySpamSettings(SpamChanges(dnsblFailure: .markSpam))),
            system { _ in .recordLoginFailure(LoginAttempt(login: "nobody@acme.test", source: "192.0.2.7", via: "bind")) },
            system { _ in .recordLockout(LoginAttempt(login: "nobody@acme.test", source: "192.0.2.7", via: "bind", locked: "source")) },
            by("boss", .setRole(A("admin0"), .superAdministrator)),
            by("boss", reauthenticated: true, .setRole(A("admin0"), .superAdministrator)),
            by("admin0", .deleteGroup(A("team"))),
            by("admin0", .deleteUser(A("carol"))),
            by("admin0", .deleteUser(A("carol"))),
            by("admin0", .removeDomain(DomainName("example.test")!)),
            system { _ in .createOrganization(NewOrganization(name: "Other", domain: DomainName("other.test")!, superAdministrator: EmailAddress("x@other.test")!, superAdministratorName: "X", passwordHash: hash)) },
        ]
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
