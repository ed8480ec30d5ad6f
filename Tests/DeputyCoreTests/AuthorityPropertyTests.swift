import DeputyCore
import Foundation
import HashTreeCollections
import PropertyBased
import Testing

/// Random actors doing random things to random accounts: after every applied command, every
/// account that gained or lost anything was the actor itself or stood below the actor, every
/// new or changed delegation was made by its mailbox's owner or from above them, and no
/// personal group lets its members send as it unless an administrator said so.
@Suite("The order of authority under random commands")
struct AuthorityPropertyTests {
    static let names = ["boss", "admin", "admin2", "um", "hd", "gm", "u1", "u2", "u3"]
    static let groupNames = ["g1", "g2", "postmaster"]
    static let otherHash = TestDirectory.hasher.hash("another password")

    @Test("nobody ends up with a right or an access that no one above them granted")
    func nobodyGainsWithoutAGrantFromAbove() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int(Int32.max)).array(of: 40...120)) { choices in
            var t = TestDirectory(organization: false)
            Self.populate(&t)
            for (step, choice) in choices.enumerated() {
                var random = SplitMix(seed: UInt64(choice))
                let command = Self.randomCommand(&random, now: t.now)
                let actor = Self.randomActor(&random, in: t.directory)
                let reauth: Date? = random.next() % 3 == 0 ? nil : t.now
                let before = t.directory
                if case .success = t.apply(command, as: actor, reauthenticatedAt: reauth) {
                    Self.check(command, by: actor, before: before, after: t.directory, step: step)
                }
                t.now = t.now.addingTimeInterval(Double(random.next() % 600))
            }
        }
    }

    /// The level of an account in `directory`, with the daemon above everyone.
    static func level(of principal: Principal, in directory: Directory) -> AuthorityLevel {
        switch principal {
        case .system: .system
        case .service: .user
        case .user(let id): directory.user(id: id)?.authorityLevel ?? .user
        }
    }

    static func check(_ command: Command, by actor: Principal, before: Directory, after: Directory, step: Int) {
        let actorLevel = level(of: actor, in: before)
        func mayActOn(_ id: EntityID) -> Bool {
            if actor == .user(id) { return true }
            guard let target = before.user(id: id) else { return true }
            return actorLevel > target.authorityLevel
        }
        // Accounts: whatever changed about an account (its password, role, scopes, blocked
        // state, addresses, name, or its existence) changed from above it or by itself.
        for user in before.users.values {
            let now = after.user(id: user.id)
            let changed = now.map {
                $0.passwordHash != user.passwordHash || $0.role != user.role || $0.customRoles != user.customRoles
                    || $0.blocked != user.blocked || $0.aliases != user.aliases || $0.displayName != user.displayName
                    || $0.recoveryAddress != user.recoveryAddress || $0.policy != user.policy
            } ?? true
            // A transfer lifts an administrator to super administrator: from above it, and it
            // makes the actor an administrator: by itself.
            if changed {
                #expect(mayActOn(user.id), "step \(step): \(before.loginName(of: actor)) changed \(user.address) with \(command)")
            }
        }
        // Nobody gains a custom role by their own hand.
        for user in after.users.values {
            let had = before.user(id: user.id)?.customRoles ?? []
            if !user.customRoles.subtracting(had).isEmpty {
                #expect(actor != .user(user.id), "step \(step): \(user.address) granted itself a role")
            }
            if let was = before.user(id: user.id)?.role, user.role > was {
                #expect(actor != .user(user.id), "step \(step): \(user.address) raised its own role")
            }
        }
        // Mailboxes: a new or changed delegation comes from the owner or from above them.
        for delegation in after.delegations.values where before.delegations[delegation.id] != delegation {
            #expect(mayActOn(delegation.mailbox), "step \(step): \(before.loginName(of: actor)) delegated the mailbox of \(before.user(id: delegation.mailbox)?.address.value ?? "?")")
        }
        // Addresses: members send as a personal group only when an administrator allowed it,
        // and no personal group sits at a reserved address unless an administrator made it.
        for group in after.groups.values where group.kind == .personal {
            let was = before.group(id: group.id)
            if group.membersMaySendAs, was?.membersMaySendAs != true {
                #expect(actorLevel >= .administrator, "step \(step): \(group.address) may be sent as without an administrator")
            }
            if was == nil, after.organization!.isReserved(group.address) {
                #expect(actorLevel >= .administrator, "step \(step): a personal group took \(group.address)")
            }
        }
    }

    static func populate(_ t: inout TestDirectory) {
        t.expectApplied(
            .createOrganization(NewOrganization(name: "Acme", domain: DomainName("acme.test")!, superAdministrator: TestDirectory.address("boss"), superAdministratorName: "Boss", passwordHash: TestDirectory.hash)),
            as: .system
        )
        for name in names.dropFirst() {
            t.expectApplied(.addUser(NewUser(address: TestDirectory.address(name), displayName: name, passwordHash: TestDirectory.hash)), as: .system)
        }
        t.expectApplied(.setRole(TestDirectory.address("admin"), .administrator), as: t.principal("boss"))
        t.expectApplied(.setRole(TestDirectory.address("admin2"), .administrator), as: t.principal("boss"))
        t.expectApplied(.grantCustomRole(TestDirectory.address("um"), .userManagement), as: t.principal("boss"))
        t.expectApplied(.grantCustomRole(TestDirectory.address("hd"), .helpdesk), as: t.principal("boss"))
        t.expectApplied(.grantCustomRole(TestDirectory.address("gm"), .groupManagement), as: t.principal("boss"))
    }

    /// Anyone may act: each account about as often, and now and then the daemon.
    static func randomActor(_ random: inout SplitMix, in directory: Directory) -> Principal {
        let everyone = directory.users.values.sorted { $0.id < $1.id }
        guard random.next() % 25 != 0, !everyone.isEmpty else { return .system }
        return .user(everyone[Int(random.next() % UInt64(everyone.count))].id)
    }

    static func randomCommand(_ random: inout SplitMix, now: Date) -> Command {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let user = TestDirectory.address(pick(names))
        let other = TestDirectory.address(pick(names))
        let group = TestDirectory.address(pick(groupNames))
        switch random.next() % 18 {
        case 0: return .addUser(NewUser(address: user, displayName: "N", passwordHash: TestDirectory.hash))
        case 1: return .deleteUser(user)
        case 2: return .setRole(user, pick([Role.user, .administrator, .superAdministrator]))
        case 3: return .grantCustomRole(user, pick(CustomAdminRole.allCases))
        case 4: return .revokeCustomRole(user, pick(CustomAdminRole.allCases))
        case 5: return .setBlocked(user, random.next() % 2 == 0)
        case 6: return .setPassword(user, pick([TestDirectory.hash, otherHash]))
        case 7: return .modifyUser(user, UserChanges(displayName: "Renamed \(random.next() % 10)"))
        case 8: return .modifyUser(user, UserChanges(recoveryAddress: .set(EmailAddress("r\(random.next() % 10)@elsewhere.test")!)))
        case 9: return .modifyUser(user, UserChanges(addAliases: [TestDirectory.address("alias\(random.next() % 20)")]))
        case 10, 11:
            let permissions = PermissionSet(Permission.allCases.filter { _ in random.next() % 2 == 0 })
            return .delegate(NewDelegation(mailbox: user, delegate: random.next() % 4 == 0 ? group : other, permissions: permissions.isEmpty ? PermissionSet([.sendAs]) : permissions))
        case 12: return .undelegate(mailbox: user, delegate: other)
        case 13: return .addGroup(NewGroup(address: group, name: "G", kind: pick(GroupKind.allCases), members: [user, other], membersMaySendAs: random.next() % 2 == 0))
        case 14: return .modifyGroup(group, GroupChanges(membersMaySendAs: random.next() % 2 == 0, addMembers: [user]))
        case 15: return .deleteGroup(group)
        case 16: return .modifyOrganization(OrganizationChanges(personalGroups: pick(GroupCreationLevel.allCases)))
        default: return .modifyUser(user, UserChanges(policy: .clear))
        }
    }
}
