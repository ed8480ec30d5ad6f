import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import PropertyBased
import Testing

/// For random directories, the envelope check (the policy service) and the header check
/// (the milter) give the answers of the core's `sendAs` and `sendOnBehalf`, for every login
/// and address: they can't disagree with each other or with `QUERY SENDAS`.
@Suite("Envelope and header checks agree with the core")
struct SenderAgreementPropertyTests {
    static let users = ["u0", "u1", "u2", "u3", "u4", "u5"]
    static let groups = ["g0", "g1"]
    static let created = Timestamp.parse("2026-11-23T10:00:00Z")!
    static let now = created.addingTimeInterval(7_200)

    static func address(_ name: String) -> EmailAddress { EmailAddress("\(name)@acme.test")! }

    /// A directory with the pool's users and groups, random memberships and `sendas=`,
    /// random delegations (some expired by `now`, some on groups' mailboxes), and random
    /// blocked users.
    static func randomDirectory(_ choices: [Int]) -> Directory {
        var directory = Directory()
        var choices = choices.makeIterator()
        func next(_ bound: Int) -> Int { (choices.next() ?? 0) % bound }
        let context = CommandContext(actor: .system, time: created)
        var commands: [Command] = [
            .createOrganization(NewOrganization(name: "Acme", domain: DomainName("acme.test")!, superAdministrator: address("admin"), superAdministratorName: "Admin", passwordHash: MailFixture.hasher.hash("x"))),
        ]
        for user in users {
            commands.append(.addUser(NewUser(address: address(user), displayName: user, passwordHash: MailFixture.hasher.hash("x"),
                                             aliases: next(3) == 0 ? [address(user + ".alias")] : [])))
        }
        for group in groups {
            let members = users.filter { _ in next(2) == 0 }.map(address)
            commands.append(.addGroup(NewGroup(address: address(group), name: group, kind: .organization, members: members, membersMaySendAs: next(2) == 0)))
        }
        let everyone = users + groups
        for _ in 0..<(4 + next(8)) {
            let permissions = PermissionSet(Permission.allCases.filter { _ in next(2) == 0 })
            // An expiry an hour after creation has passed by `now`; two days after has not.
            let expiry: Date? = [nil, created.addingTimeInterval(3_600), created.addingTimeInterval(172_800)][next(3)]
            commands.append(.delegate(NewDelegation(
                mailbox: address(everyone[next(everyone.count)]), delegate: address(everyone[next(everyone.count)]),
                permissions: permissions.isEmpty ? PermissionSet([.sendOnBehalf]) : permissions, expiresAt: expiry
            )))
        }
        for user in users where next(5) == 0 { commands.append(.setBlocked(address(user), true)) }
        for command in commands { _ = directory.apply(command, context: context) }
        return directory
    }

    @Test("policy service and milter answer as sendAs and sendOnBehalf do")
    func agree() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int(Int32.max)).array(of: 60...60)) { choices in
            let directory = Self.randomDirectory(choices)
            let logins = (Self.users + ["admin", "nobody"]).map { Self.address($0).value }
            let addresses = (Self.users + Self.users.map { $0 + ".alias" } + Self.groups + ["ghost"]).map { Self.address($0).value }
            for login in logins {
                for address in addresses {
                    let sendAs = directory.sendAs(login: login, address: address, at: Self.now)
                    let onBehalf = directory.sendOnBehalf(login: login, address: address, at: Self.now)
                    let policy = PolicyDecision.decide(PolicyRequest(attributes: ["request": "smtpd_access_policy", "sender": address, "sasl_username": login]), in: directory, at: Self.now, delimiter: nil)
                    #expect((policy.action == .dunno) == sendAs.allowed, "\(login) as \(address): \(policy.action) vs \(sendAs)")
                    #expect(policy.delegatedSend?.grant == DelegatedSendGrant(sendAs), "\(login) as \(address)")

                    let header = HeaderDecision.decide(login: login, from: ["Someone <\(address)>"], sender: [], unauthenticated: .accept, in: directory, at: Self.now, delimiter: nil)
                    switch header.outcome {
                    case .accept(nil):
                        #expect(sendAs.allowed, "\(login) From: \(address) accepted as is: \(sendAs)")
                        #expect(header.delegatedSends.map(\.grant) == [DelegatedSendGrant(sendAs)].compactMap { $0 })
                    case .accept(let sender?):
                        #expect(!sendAs.allowed && onBehalf.allowed, "\(login) From: \(address) on behalf: \(sendAs) \(onBehalf)")
                        #expect(sender.value == login, "\(login)")
                        #expect(header.delegatedSends.map(\.grant) == [DelegatedSendGrant(onBehalf)].compactMap { $0 })
                    case .reject(let text):
                        #expect(!onBehalf.allowed, "\(login) From: \(address) refused: \(text)")
                        #expect(text.hasSuffix(sendAs.refusal.map { "reason=\($0)" + (sendAs.refusingGrant.map { " grant=\($0)" } ?? "") + ")" } ?? "-"), "\(text) vs \(sendAs)")
                    }
                }
            }
        }
    }
}
