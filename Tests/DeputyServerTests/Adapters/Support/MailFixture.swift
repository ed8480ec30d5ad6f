import DeputyCore
import DeputyServer
import Foundation

/// The directory the mail-server tests share: organisation `example` (domain `example.test`)
/// with users, an alias, delegations of every kind and two blocked accounts.
///
/// Commands are applied at ``created``; the tests' clock starts two hours later, when the
/// delegation to `temp@` (one hour) has expired.
enum MailFixture {
    static let created = Timestamp.parse("2026-11-23T10:00:00Z")!
    static let now = created.addingTimeInterval(7_200)
    static let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))
    static let password = "correct horse battery"

    static func address(_ text: String) -> EmailAddress { EmailAddress(text)! }

    /// Every login of the fixture.
    static let logins = ["admin", "boss", "secretary", "reader", "temp", "member1", "member2", "gone", "blockeduser"].map { "\($0)@example.test" }
    /// Every address of the fixture, and two that nobody has.
    static let addresses = logins + ["chief@example.test", "team@example.test", "ghost@example.test", "boss@elsewhere.test"]

    static func directory() -> Directory {
        var directory = Directory()
        let hash = hasher.hash(password)
        var commands: [Command] = [
            .createOrganization(NewOrganization(
                name: "example", domain: DomainName("example.test")!, superAdministrator: address("admin@example.test"),
                superAdministratorName: "Administrator", passwordHash: hash
            )),
        ]
        for user in ["boss", "secretary", "reader", "temp", "member1", "member2", "gone", "blockeduser"] {
            commands.append(.addUser(NewUser(
                address: address("\(user)@example.test"), displayName: user, passwordHash: hash,
                aliases: user == "boss" ? [address("chief@example.test")] : []
            )))
        }
        commands += [
            .addGroup(NewGroup(address: address("team@example.test"), name: "Team", kind: .organization, members: [address("member1@example.test"), address("member2@example.test")])),
            .delegate(NewDelegation(mailbox: address("boss@example.test"), delegate: address("secretary@example.test"), permissions: PermissionSet([.read, .sendAs]))),
            .delegate(NewDelegation(mailbox: address("boss@example.test"), delegate: address("reader@example.test"), permissions: PermissionSet([.read]))),
            .delegate(NewDelegation(mailbox: address("boss@example.test"), delegate: address("temp@example.test"), permissions: PermissionSet([.read, .sendAs]), expiresAt: created.addingTimeInterval(3_600))),
            .delegate(NewDelegation(mailbox: address("boss@example.test"), delegate: address("team@example.test"), permissions: PermissionSet([.manage, .sendAs]))),
            .delegate(NewDelegation(mailbox: address("boss@example.test"), delegate: address("blockeduser@example.test"), permissions: PermissionSet([.read, .sendAs]))),
            .delegate(NewDelegation(mailbox: address("gone@example.test"), delegate: address("secretary@example.test"), permissions: PermissionSet([.read, .sendAs]))),
            .delegate(NewDelegation(mailbox: address("reader@example.test"), delegate: address("secretary@example.test"), permissions: PermissionSet([.sendAs]))),
            .setBlocked(address("gone@example.test"), true),
            .setBlocked(address("blockeduser@example.test"), true),
        ]
        for command in commands {
            if case .failure(let error) = directory.apply(command, context: CommandContext(actor: .system, time: created)) {
                fatalError("fixture command \(command) refused: \(error)")
            }
        }
        return directory
    }

    /// Commits `command` as the system at the test clock's time.
    static func commit(_ command: Command, on committer: any DirectoryCommitter, at time: Date) async throws {
        let result = try await committer.commit(command, context: CommandContext(actor: .system, time: time)).result
        if case .failure(let error) = result { throw TestFailure("\(command) refused: \(error)") }
    }
}
