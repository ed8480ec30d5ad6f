import DeputyCore
import Foundation
import HashTreeCollections
import PropertyBased
import Testing

/// Random sequences of commands by random actors, with every invariant checked after each step.
@Suite("Invariants under random commands")
struct DirectoryPropertyTests {
    static let names = ["boss", "admin", "u1", "u2", "u3", "u4", "u5", "u6"]
    static let groupNames = ["g1", "g2", "g3", "g4"]

    @Test("after every command: one super administrator, traced roles, no dangling names, sound indexes, blocked accounts get nothing")
    func invariantsHold() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int(Int32.max)).array(of: 40...120)) { choices in
            var t = TestDirectory(organization: false)
            Self.populate(&t)
            for (step, choice) in choices.enumerated() {
                var random = SplitMix(seed: UInt64(choice))
                let command = Self.randomCommand(&random, now: t.now)
                let actor = Self.randomActor(&random, in: t.directory)
                let reauth: Date? = random.next() % 4 == 0 ? nil : t.now.addingTimeInterval(-Double(random.next() % 400))
                let before = DirectoryFingerprint(t.directory)
                let result = t.apply(command, as: actor, reauthenticatedAt: reauth)
                if case .failure = result {
                    #expect(DirectoryFingerprint(t.directory) == before, "step \(step): refused \(command) changed the directory")
                }
                Self.checkInvariants(t.directory, now: t.now, step: step)
                t.now = t.now.addingTimeInterval(Double(random.next() % 900))
            }
        }
    }

    /// The organisation with every name of the pool as a user, `admin` an administrator.
    static func populate(_ t: inout TestDirectory) {
        t.expectApplied(
            .createOrganization(NewOrganization(name: "Acme", domain: DomainName("acme.test")!, superAdministrator: TestDirectory.address("boss"), superAdministratorName: "Boss", passwordHash: TestDirectory.hash)),
            as: .system
        )
        for name in names.dropFirst() {
            t.expectApplied(.addUser(NewUser(address: TestDirectory.address(name), displayName: name, passwordHash: TestDirectory.hash)), as: .system)
        }
        t.expectApplied(.setRole(TestDirectory.address("admin"), .administrator), as: t.principal("boss"))
    }

    // MARK: - Invariants

    static func checkInvariants(_ directory: Directory, now: Date, step: Int) {
        let problems = directory.consistencyProblems()
        #expect(problems.isEmpty, "step \(step): \(problems)")
        #expect(directory.users.values.filter { $0.role == .superAdministrator }.count == 1, "step \(step)")
        checkRolesTraceToGrants(directory, step: step)
        for user in directory.users.values where user.blocked {
            for address in directory.users.values.flatMap(\.allAddresses) + directory.groups.values.map(\.address) {
                #expect(!directory.sendAs(login: user.address.value, address: address.value, at: now).allowed, "step \(step): blocked \(user.address) sends as \(address)")
                #expect(!directory.senders(of: address.value, at: now).contains { $0.login == user.address }, "step \(step)")
            }
            #expect(directory.mailboxes(of: user.address.value, at: now) == [], "step \(step)")
            #expect(directory.privileges(of: user.address.value)?.privileges == [], "step \(step)")
        }
        checkSendAsAgreesWithSenders(directory, now: now, step: step)
        checkReverseQueriesAgree(directory, now: now, step: step)
        checkDelegatedAccessAgrees(directory, now: now, step: step)
        checkNestedGroups(directory, now: now, step: step)
        checkDelegationPages(directory, now: now, step: step)
        // Every twentieth step: each check pages through every filter at every size.
        if step % 20 == 0 { checkSearchPages(directory, step: step) }
    }

    /// Paging a search by its cursors gives what one search without a limit gives, page for
    /// page what `offset=` gives, whatever the filter matches.
    static func checkSearchPages(_ directory: Directory, step: Int) {
        let filters = [
            "(objectclass=*)", "(objectclass=person)", "(|(cn=a*)(objectclass=groupofnames))", "(!(cn=b*))", "(blocked=yes)",
            "(objectClass=deputyGroup)", "(&(objectclass=person)(cn=a*))", "(|(objectclass=deputyservice)(objectclass=groupofnames))",
            "(!(objectclass=person))", "(&(objectclass=deputygroup)(objectclass=person))", "(objectclass=organization)",
            "(policy=*)", "(!(policy=*))", "(|(recoveryaddress=*)(cn=u1))", "(member=*)", "(owner=*)", "(customrole=*)",
            "(mailalternateaddress=*)", "(&(role=*)(!(blocked=no)))", "(uid=*1*)", "(createtimestamp=20*)", "(dn=*ou=groups*)",
            "(!(objectclass=*))", "(|(objectclass=*)(cn=zz))", "(&(objectclass=*)(cn=u*))", "(&(!(objectclass=person))(objectclass=top))",
        ]
        // Every entry in the search's order, each matched by the filter itself: what a search
        // that steps over kinds must still find.
        let every = directory.search(.presence(attribute: "objectclass"), limit: Int.max).entries
        for text in filters {
            let filter = try! SearchFilterParser.parse(text)
            let whole = directory.search(filter, limit: Int.max).entries.map(\.distinguishedName)
            #expect(whole == every.filter { filter.matches($0) }.map(\.distinguishedName), "step \(step): \(text)")
            // A scan reads only the attributes the filter names, as the viewer sees them: it
            // finds what matching each whole entry, as the viewer sees it, finds.
            let someone = directory.users.values.map(\.id).min()
            for view in [EntryVisibility.everything, .publicAttributes(ownEntry: nil), .publicAttributes(ownEntry: someone)] {
                let seen = every.map(view.apply).filter { filter.matches($0) }
                #expect(directory.search(filter, limit: Int.max, seenAs: view).entries == seen, "step \(step): \(text) seen as \(view)")
            }
            for limit in [1, 3] {
                var paged: [String] = []
                var cursor: SearchCursor?
                repeat {
                    let page = directory.search(filter, limit: limit, from: cursor)
                    let byOffset = directory.search(filter, limit: paged.count + limit).entries.dropFirst(paged.count)
                    #expect(page.entries.map(\.distinguishedName) == byOffset.map(\.distinguishedName), "step \(step): \(text) page at \(paged.count)")
                    #expect(page.truncated == (page.next != nil), "step \(step): \(text)")
                    if let last = page.last, let lastEntry = page.entries.last {
                        // A page overlapping this one by an entry starts with its last.
                        #expect(directory.search(filter, limit: 1, from: last).entries.map(\.distinguishedName) == [lastEntry.distinguishedName], "step \(step): \(text)")
                    }
                    paged += page.entries.map(\.distinguishedName)
                    cursor = page.next
                } while cursor != nil && paged.count <= whole.count
                #expect(paged == whole, "step \(step): \(text) by \(limit)")
            }
        }
    }

    /// Every page of `QUERY DELEGATIONS` is the slice of the whole list at its offset, and
    /// counts what remains from there.
    static func checkDelegationPages(_ directory: Directory, now: Date, step: Int) {
        let all = directory.allDelegations(at: now)
        for limit in [1, 2, 3, 1_000] {
            for offset in 0...(all.count + 1) {
                let found = directory.delegations(from: offset, limit: limit, at: now)
                #expect(found.page == Array(all.dropFirst(offset).prefix(limit)), "step \(step): page at \(offset) of \(limit)")
                #expect(found.remaining == max(0, all.count - offset), "step \(step): remaining at \(offset)")
            }
        }
    }

    /// `holders` and `rights` take each candidate through the full decision; `decide`
    /// answers one question at a time. For every login, address and permission, all three
    /// agree, and a refusal's grant is one of the mailbox's delegations.
    static func checkReverseQueriesAgree(_ directory: Directory, now: Date, step: Int) {
        let logins = directory.users.values.map(\.address)
        var rights: [EmailAddress: Set<String>] = [:]
        for login in logins {
            rights[login] = Set((directory.rights(of: login.value, at: now) ?? []).map { "\($0.mailbox) \($0.permission)" })
        }
        for address in directory.users.values.map(\.address) + directory.groups.values.map(\.address) {
            let holders = Set(directory.holders(of: address.value, at: now).map { "\($0.login) \($0.permission)" })
            let grants = Set((directory.delegates(of: address.value, at: now, includeInactive: true) ?? []).map(\.delegation))
            for login in logins {
                for permission in Permission.allCases {
                    let decision = directory.decide(login: login.value, address: address.value, permission: permission, at: now)
                    #expect(decision.allowed == holders.contains("\(login) \(permission)"), "step \(step): \(login) \(permission) on \(address): \(decision)")
                    #expect(decision.allowed == rights[login]!.contains("\(address) \(permission)"), "step \(step): rights of \(login), \(permission) on \(address)")
                    if let grant = decision.refusingGrant { #expect(grants.contains(grant), "step \(step): \(decision) names a grant of another mailbox") }
                    if permission.isSending {
                        let send = permission == .sendAs ? directory.sendAs(login: login.value, address: address.value, at: now)
                            : directory.sendOnBehalf(login: login.value, address: address.value, at: now)
                        #expect(send == decision, "step \(step)")
                        let probed = AddressProbeTests.probed(directory, login.value.uppercased(), address.value, permission, at: now)
                        #expect(probed == decision, "step \(step): \(login) \(permission) on \(address) by probes")
                    }
                }
            }
        }
    }

    /// The access of every delegate in one pass (what Dovecot's ACL file is made from) is,
    /// user by user, what `mailboxes(of:)` gives them beside their own mailbox: the same
    /// mailboxes, permissions, and earliest expiry of the delegations behind each.
    static func checkDelegatedAccessAgrees(_ directory: Directory, now: Date, step: Int) {
        let inOnePass = Set(directory.delegatedMailboxAccess(at: now))
        var userByUser: Set<DelegatedAccess> = []
        for user in directory.users.values {
            for access in directory.mailboxes(of: user.address.value, at: now) ?? [] where !access.isOwner {
                userByUser.insert(DelegatedAccess(
                    mailbox: access.mailbox, delegate: user.address, permissions: access.permissions,
                    nextExpiry: access.grants.compactMap(\.expiresAt).min()
                ))
            }
        }
        #expect(inOnePass == userByUser, "step \(step): in one pass \(inOnePass.subtracting(userByUser)), user by user \(userByUser.subtracting(inOnePass))")
        #expect(directory.delegatedMailboxAccess(at: now).count == inOnePass.count, "step \(step): an access listed twice")
    }

    /// The users inside a group by brute force: its members, and the members of each group
    /// in it, recursively, with no index; a group met again on its own path is a cycle.
    static func bruteForceUsers(in groupID: EntityID, _ directory: Directory, path: [EntityID] = [], step: Int) -> Set<EntityID> {
        guard !path.contains(groupID) else {
            Issue.record("step \(step): a cycle of groups \(path + [groupID])")
            return []
        }
        var users: Set<EntityID> = []
        for member in directory.groups[groupID]?.members ?? [] {
            switch member {
            case .user(let id): users.insert(id)
            case .group(let id): users.formUnion(bruteForceUsers(in: id, directory, path: path + [groupID], step: step))
            case .external: break
            }
        }
        return users
    }

    /// Expanded membership, send-as through groups and delegations to groups, each against
    /// the brute-force expansion.
    static func checkNestedGroups(_ directory: Directory, now: Date, step: Int) {
        var inside: [EntityID: Set<EntityID>] = [:]
        for group in directory.groups.values {
            let users = bruteForceUsers(in: group.id, directory, step: step)
            inside[group.id] = users
            let expanded = directory.members(of: group.address.value, expanded: true) ?? []
            #expect(Set(expanded.filter { !$0.external }.map(\.address)) == Set(users.compactMap { directory.users[$0]?.address }), "step \(step): \(group.address)")
            for user in directory.users.values {
                // A group's address is also a shared mailbox: send-as comes from membership
                // where the group allows it, or from a delegation of the mailbox.
                let granted = directory.delegations(ofMailbox: group.id).contains { grant in
                    guard grant.isActive(at: now), grant.permissions.contains(.sendAs) else { return false }
                    switch grant.delegate {
                    case .user(let id): return id == user.id
                    case .group(let id): return bruteForceUsers(in: id, directory, step: step).contains(user.id)
                    }
                }
                let allowed = directory.sendAs(login: user.address.value, address: group.address.value, at: now).allowed
                #expect(allowed == (!user.blocked && ((group.membersMaySendAs && users.contains(user.id)) || granted)), "step \(step): \(user.address) as \(group.address)")
            }
        }
        for mailbox in directory.users.values {
            let grants = directory.delegations(ofMailbox: mailbox.id).filter { $0.isActive(at: now) && $0.permissions.contains(.sendAs) }
            for user in directory.users.values {
                let expected = !user.blocked && (user.id == mailbox.id || grants.contains { grant in
                    switch grant.delegate {
                    case .user(let id): id == user.id
                    case .group(let id): inside[id]?.contains(user.id) ?? false
                    }
                })
                let allowed = directory.sendAs(login: user.address.value, address: mailbox.address.value, at: now).allowed
                #expect(allowed == expected, "step \(step): \(user.address) as \(mailbox.address)")
            }
        }
    }

    /// `sendAs` answers allowed checks from the address's entry alone; `senders` takes every
    /// candidate through the full decision. For every login and address, both must give the
    /// same answer with the same reason.
    static func checkSendAsAgreesWithSenders(_ directory: Directory, now: Date, step: Int) {
        let logins = directory.users.values.map(\.address)
        for address in directory.users.values.flatMap(\.allAddresses) + directory.groups.values.map(\.address) {
            let senders = Dictionary(uniqueKeysWithValues: directory.senders(of: address.value, at: now).map { ($0.login, $0.decision) })
            for login in logins {
                let decision = directory.sendAs(login: login.value.uppercased(), address: address.value, at: now)
                #expect(decision.allowed == (senders[login] != nil), "step \(step): \(login) as \(address): \(decision)")
                if let expected = senders[login] { #expect(decision == expected, "step \(step): \(login) as \(address)") }
            }
        }
    }

    /// Replays the applied role changes of the audit log and checks they give exactly the
    /// roles the directory holds: nobody holds a role that no applied grant gave them.
    static func checkRolesTraceToGrants(_ directory: Directory, step: Int) {
        var roles: [String: Role] = [:]
        var customRoles: [String: Set<CustomAdminRole>] = [:]
        for record in directory.auditLog.all where record.outcome == .applied {
            let value = record.detail.split(separator: " ").first { $0.hasPrefix("role=") }.map { String($0.dropFirst(5)) }
            switch record.action {
            case "create-organization":
                let superAdmin = record.detail.split(separator: " ").first { $0.hasPrefix("superadmin=") }!.dropFirst(11)
                roles[String(superAdmin)] = .superAdministrator
            case "add-user":
                roles[record.target] = .user
                customRoles[record.target] = []
            case "delete-user":
                roles[record.target] = nil
                customRoles[record.target] = nil
            case "set-role":
                let role = Role(rawValue: value!)!
                if role == .superAdministrator { roles[record.actor] = .administrator }
                roles[record.target] = role
                customRoles[record.target] = []
            case "grant-custom-role":
                customRoles[record.target, default: []].insert(CustomAdminRole(rawValue: value!)!)
            case "revoke-custom-role":
                customRoles[record.target, default: []].remove(CustomAdminRole(rawValue: value!)!)
            default:
                break
            }
        }
        for user in directory.users.values {
            #expect(roles[user.address.value] == user.role, "step \(step): \(user.address) is \(user.role) without a grant")
            #expect((customRoles[user.address.value] ?? []) == user.customRoles, "step \(step): \(user.address) custom roles")
        }
    }

    // MARK: - Random commands

    static func randomActor(_ random: inout SplitMix, in directory: Directory) -> Principal {
        // Administrators act often, so that grants and transfers really happen.
        let everyone = directory.users.values.sorted { $0.id < $1.id }
        let administrators = everyone.filter { $0.role.isAdministrator }
        switch random.next() % 20 {
        case 0: return .system
        case 1...8: return .user(administrators[Int(random.next() % UInt64(administrators.count))].id)
        default: return .user(everyone[Int(random.next() % UInt64(everyone.count))].id)
        }
    }

    static func randomCommand(_ random: inout SplitMix, now: Date) -> Command {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let user = TestDirectory.address(pick(names))
        let other = TestDirectory.address(pick(names))
        let group = TestDirectory.address(pick(groupNames))
        switch random.next() % 24 {
        case 0: return .addUser(NewUser(address: user, displayName: "N", passwordHash: TestDirectory.hash))
        case 1: return .deleteUser(user)
        case 2, 17, 18: return .setRole(user, pick([Role.user, .administrator, .superAdministrator]))
        case 3, 19: return .grantCustomRole(user, pick(CustomAdminRole.allCases))
        case 4, 20: return .revokeCustomRole(user, pick(CustomAdminRole.allCases))
        case 5: return .setBlocked(user, random.next() % 2 == 0)
        case 6: return .addGroup(NewGroup(address: group, name: "G", kind: pick(GroupKind.allCases), members: [user, other], membersMaySendAs: random.next() % 2 == 0))
        case 7: return .deleteGroup(group)
        case 8: return .modifyGroup(group, GroupChanges(membersMaySendAs: random.next() % 2 == 0, addMembers: [user]))
        case 9: return .modifyGroup(group, GroupChanges(removeMembers: [user]))
        case 10, 11:
            let delegate = random.next() % 3 == 0 ? group : other
            let permissions = PermissionSet(Permission.allCases.filter { _ in random.next() % 2 == 0 })
            let expiry: Date? = random.next() % 3 == 0 ? now.addingTimeInterval(Double(random.next() % 3600) + 1) : nil
            // A group's shared mailbox as often as one in four.
            let mailbox = random.next() % 4 == 0 ? group : user
            return .delegate(NewDelegation(mailbox: mailbox, delegate: delegate, permissions: permissions.isEmpty ? PermissionSet([.read]) : permissions, expiresAt: expiry))
        case 12: return .undelegate(mailbox: random.next() % 4 == 0 ? group : user, delegate: random.next() % 3 == 0 ? group : other)
        case 13: return .modifyOrganization(OrganizationChanges(organizationGroups: pick(GroupCreationLevel.allCases), personalGroups: pick(GroupCreationLevel.allCases)))
        case 14: return .setPassword(user, TestDirectory.hash)
        case 21, 22: return .modifyGroup(group, GroupChanges(addMembers: [TestDirectory.address(pick(groupNames))]))
        case 23: return .modifyGroup(group, GroupChanges(removeMembers: [TestDirectory.address(pick(groupNames))]))
        case 15: return .addPolicy(EmailPolicy(name: "p\(random.next() % 2)", mailboxDelegationAllowed: random.next() % 2 == 0))
        default: return .modifyUser(user, UserChanges(policy: random.next() % 2 == 0 ? .set("p\(random.next() % 2)") : .clear))
        }
    }
}

/// A small deterministic generator, seeded from the property's input.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
