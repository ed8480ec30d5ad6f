import HashTreeCollections
import DeputyCore
import Foundation
import Testing

/// One test per rule of the directory, each showing the allowed and the refused side.
@Suite("The rules of the directory")
struct RuleTests {
    typealias T = TestDirectory

    @Test("rule 1: exactly one super administrator, created with the organisation")
    func rule1SingleSuperAdministrator() {
        var t = T()
        let superAdmins = t.directory.users.values.filter { $0.role == .superAdministrator }
        #expect(superAdmins.map(\.address) == [T.address("boss")])
        #expect(t.directory.superAdministrator == t.user("boss")?.id)
        // A second organisation (and so a second super administrator) is refused.
        t.expectRefused(
            .createOrganization(NewOrganization(name: "Other", domain: DomainName("acme.test")!, superAdministrator: T.address("alice"), superAdministratorName: "A", passwordHash: T.hash)),
            as: .system, code: .exists
        )
        // Nobody can simply make a second super administrator out of an administrator's role change...
        t.expectRefused(.setRole(T.address("alice"), .superAdministrator), as: t.principal("admin"), code: .denied, rule: .superAdministratorTransfer)
        // ...and only the daemon itself creates the organisation.
        var empty = T(organization: false)
        empty.expectRefused(
            .createOrganization(NewOrganization(name: "X", domain: DomainName("x.test")!, superAdministrator: EmailAddress("a@x.test")!, superAdministratorName: "A", passwordHash: T.hash)),
            as: .user(EntityID(1)), code: .denied
        )
        empty.expectApplied(
            .createOrganization(NewOrganization(name: "X", domain: DomainName("x.test")!, superAdministrator: EmailAddress("a@x.test")!, superAdministratorName: "A", passwordHash: T.hash)),
            as: .system
        )
        #expect(empty.directory.users.values.filter { $0.role == .superAdministrator }.count == 1)
    }

    @Test("rule 2: only the super administrator changes a user into an administrator or back")
    func rule2RoleChangeBySuperAdministrator() {
        var t = T()
        t.expectRefused(.setRole(T.address("alice"), .administrator), as: t.principal("admin"), code: .denied, rule: .roleChangeBySuperAdministrator)
        t.expectRefused(.setRole(T.address("alice"), .administrator), as: t.principal("bob"), code: .denied, rule: .roleChangeBySuperAdministrator)
        t.expectApplied(.setRole(T.address("alice"), .administrator), as: t.principal("boss"))
        #expect(t.user("alice")?.role == .administrator)
        t.expectRefused(.setRole(T.address("alice"), .user), as: t.principal("admin"), code: .denied, rule: .roleChangeBySuperAdministrator)
        t.expectApplied(.setRole(T.address("alice"), .user), as: t.principal("boss"))
        #expect(t.user("alice")?.role == .user)
    }

    @Test("rule 3: the super administrator hands the role to an administrator after re-authenticating")
    func rule3SuperAdministratorTransfer() {
        var t = T()
        let recent = t.now.addingTimeInterval(-60)
        let stale = t.now.addingTimeInterval(-301)
        // Not the super administrator: refused even with a fresh re-authentication.
        t.expectRefused(.setRole(T.address("admin"), .superAdministrator), as: t.principal("admin"), code: .denied, rule: .superAdministratorTransfer, reauthenticatedAt: recent)
        // A plain user, or a custom administrator, is not eligible.
        t.expectRefused(.setRole(T.address("alice"), .superAdministrator), as: t.principal("boss"), code: .denied, rule: .superAdministratorTransfer, reauthenticatedAt: recent)
        t.expectRefused(.setRole(T.address("helper"), .superAdministrator), as: t.principal("boss"), code: .denied, rule: .superAdministratorTransfer, reauthenticatedAt: recent)
        // Without, or with a stale, re-authentication.
        t.expectRefused(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .superAdministratorTransfer)
        t.expectRefused(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .superAdministratorTransfer, reauthenticatedAt: stale)
        // Exactly at the edge of the window it still counts.
        t.expectApplied(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), reauthenticatedAt: t.now.addingTimeInterval(-300))
        #expect(t.user("admin")?.role == .superAdministrator)
        #expect(t.user("boss")?.role == .administrator)
        #expect(t.directory.superAdministrator == t.user("admin")?.id)
    }

    @Test("rule 4: only the super administrator changes the organisation's name and logo")
    func rule4OrganizationIdentityBySuperAdministrator() {
        var t = T()
        t.expectRefused(.modifyOrganization(OrganizationChanges(name: "Evil")), as: t.principal("admin"), code: .denied, rule: .organizationIdentityBySuperAdministrator)
        t.expectRefused(.modifyOrganization(OrganizationChanges(logo: .set("https://evil.test/logo.png"))), as: t.principal("admin"), code: .denied, rule: .organizationIdentityBySuperAdministrator)
        t.expectApplied(.modifyOrganization(OrganizationChanges(name: "Acme Ltd", logo: .set("https://acme.test/logo.png"))), as: t.principal("boss"))
        #expect(t.directory.organization?.name == "Acme Ltd")
        #expect(t.directory.organization?.logo == "https://acme.test/logo.png")
        // Other organisation settings are any administrator's.
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroups: .allUsers)), as: t.principal("admin"))
    }

    @Test("rule 5: administrators, any number of them, may do everything else")
    func rule5AdministratorsManage() {
        var t = T()
        t.expectApplied(.setRole(T.address("carol"), .administrator), as: t.principal("boss"))
        for admin in ["admin", "carol"] {
            let name = "new-\(admin)"
            t.expectApplied(.addUser(NewUser(address: T.address(name), displayName: "N", passwordHash: T.hash)), as: t.principal(admin))
            t.expectApplied(.addGroup(NewGroup(address: T.address("g-\(admin)"), name: "G", kind: .organization, members: [T.address(name)])), as: t.principal(admin))
            t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address(name), permissions: PermissionSet([.read]))), as: t.principal(admin))
            t.expectApplied(.modifySpamSettings(SpamChanges(blockDomains: [DomainName("spam-\(admin).test")!])), as: t.principal(admin))
            t.expectApplied(.grantCustomRole(T.address("bob"), admin == "admin" ? .quarantine : .spamControl), as: t.principal(admin))
            t.expectApplied(.setBlocked(T.address(name), true), as: t.principal(admin))
            t.expectApplied(.deleteUser(T.address(name)), as: t.principal(admin))
        }
        // A plain user may do none of it.
        t.expectRefused(.addUser(NewUser(address: T.address("x"), displayName: "X", passwordHash: T.hash)), as: t.principal("alice"), code: .denied, rule: .administratorsManage)
        t.expectRefused(.modifySpamSettings(SpamChanges(blockDomains: [DomainName("x.test")!])), as: t.principal("alice"), code: .denied, rule: .administratorsManage)
        t.expectRefused(.grantCustomRole(T.address("bob"), .helpdesk), as: t.principal("alice"), code: .denied, rule: .administratorsManage)
    }

    @Test("rule 6: custom administrator roles grant only their scope")
    func rule6CustomRoleScope() {
        var t = T()
        t.expectApplied(.grantCustomRole(T.address("alice"), .userManagement), as: t.principal("admin"))
        t.expectApplied(.grantCustomRole(T.address("bob"), .groupManagement), as: t.principal("boss"))
        t.expectApplied(.grantCustomRole(T.address("carol"), .spamControl), as: t.principal("admin"))
        // User Management: add, delete, settings and passwords of users...
        t.expectApplied(.addUser(NewUser(address: T.address("dave"), displayName: "Dave", passwordHash: T.hash)), as: t.principal("alice"))
        t.expectApplied(.setPassword(T.address("dave"), T.hash), as: t.principal("alice"))
        t.expectApplied(.modifyUser(T.address("dave"), UserChanges(displayName: "David")), as: t.principal("alice"))
        // ...but not groups, spam, roles, nor administrators' accounts.
        t.expectRefused(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization)), as: t.principal("alice"), code: .denied, rule: .organizationGroupCreation)
        t.expectRefused(.modifySpamSettings(SpamChanges(spfFailure: .reject)), as: t.principal("alice"), code: .denied, rule: .customRoleScope)
        t.expectRefused(.grantCustomRole(T.address("dave"), .helpdesk), as: t.principal("alice"), code: .denied, rule: .customRoleScope)
        t.expectRefused(.setPassword(T.address("admin"), T.hash), as: t.principal("alice"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.deleteUser(T.address("admin")), as: t.principal("alice"), code: .denied, rule: .authorityOrder)
        // Group Management: members, settings and deletion of groups; not users.
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization)), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("team"), GroupChanges(addMembers: [T.address("dave")])), as: t.principal("bob"))
        t.expectRefused(.deleteUser(T.address("dave")), as: t.principal("bob"), code: .denied, rule: .customRoleScope)
        t.expectApplied(.deleteGroup(T.address("team")), as: t.principal("bob"))
        // Spam Control: the spam settings only.
        t.expectApplied(.modifySpamSettings(SpamChanges(blockSenders: [EmailAddress("x@spam.test")!], spfFailure: .reject)), as: t.principal("carol"))
        t.expectRefused(.setBlocked(T.address("dave"), true), as: t.principal("carol"), code: .denied, rule: .customRoleScope)
        // Helpdesk: block and unblock users and set recovery addresses; not administrators, not passwords.
        t.expectApplied(.setBlocked(T.address("dave"), true), as: t.principal("helper"))
        t.expectApplied(.setBlocked(T.address("dave"), false), as: t.principal("helper"))
        t.expectApplied(.modifyUser(T.address("dave"), UserChanges(recoveryAddress: .set(EmailAddress("dave@home.test")!))), as: t.principal("helper"))
        t.expectRefused(.setBlocked(T.address("admin"), true), as: t.principal("helper"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.setPassword(T.address("dave"), T.hash), as: t.principal("helper"), code: .denied, rule: .customRoleScope)
        // Quarantine and Marketplace Developer are privileges that mail servers and consoles query.
        t.expectApplied(.grantCustomRole(T.address("dave"), .quarantine), as: t.principal("admin"))
        t.expectApplied(.grantCustomRole(T.address("dave"), .marketplaceDeveloper), as: t.principal("admin"))
        #expect(t.directory.privileges(of: "dave@acme.test")?.privileges.contains(.quarantine) == true)
        #expect(t.directory.privileges(of: "dave@acme.test")?.privileges.contains(.developer) == true)
        #expect(t.directory.privileges(of: "dave@acme.test")?.privileges.contains(.manageUsers) == false)
        t.expectRefused(.addUser(NewUser(address: T.address("eve"), displayName: "Eve", passwordHash: T.hash)), as: t.principal("dave"), code: .denied, rule: .customRoleScope)
        // Super administrator and administrators assign and remove them; custom administrators don't.
        t.expectRefused(.revokeCustomRole(T.address("dave"), .quarantine), as: t.principal("helper"), code: .denied, rule: .customRoleScope)
        t.expectApplied(.revokeCustomRole(T.address("dave"), .quarantine), as: t.principal("admin"))
        #expect(t.user("dave")?.customRoles == [.marketplaceDeveloper])
    }

    @Test("rule 7: organisation group creation follows the organisation's switch and level")
    func rule7OrganizationGroupCreation() {
        var t = T()
        func add(_ name: String, as actor: String) -> Command {
            .addGroup(NewGroup(address: T.address(name), name: name, kind: .organization))
        }
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroups: .disabled)), as: t.principal("admin"))
        t.expectRefused(add("g1", as: "boss"), as: t.principal("boss"), code: .denied, rule: .organizationGroupCreation)
        t.expectRefused(add("g1", as: "admin"), as: t.principal("admin"), code: .denied, rule: .organizationGroupCreation)
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroups: .superAdministratorOnly)), as: t.principal("admin"))
        t.expectRefused(add("g1", as: "admin"), as: t.principal("admin"), code: .denied, rule: .organizationGroupCreation)
        t.expectApplied(add("g1", as: "boss"), as: t.principal("boss"))
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroups: .administrators)), as: t.principal("admin"))
        t.expectRefused(add("g2", as: "alice"), as: t.principal("alice"), code: .denied, rule: .organizationGroupCreation)
        t.expectApplied(add("g2", as: "admin"), as: t.principal("admin"))
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroups: .allUsers)), as: t.principal("admin"))
        t.expectApplied(add("g3", as: "alice"), as: t.principal("alice"))
        #expect(t.directory.group(at: T.address("g3"))?.kind == .organization)
        #expect(t.directory.group(at: T.address("g3"))?.owner == nil)
    }

    @Test("rule 8: personal group creation, its level, and external members")
    func rule8PersonalGroupCreation() {
        var t = T()
        let external = EmailAddress("friend@elsewhere.test")!
        func add(_ name: String, members: [EmailAddress] = []) -> Command {
            .addGroup(NewGroup(address: T.address(name), name: name, kind: .personal, members: members))
        }
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .disabled)), as: t.principal("admin"))
        t.expectRefused(add("p1"), as: t.principal("boss"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .superAdministratorOnly)), as: t.principal("admin"))
        t.expectRefused(add("p1"), as: t.principal("admin"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(add("p1"), as: t.principal("boss"))
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .administrators)), as: t.principal("admin"))
        t.expectRefused(add("p2"), as: t.principal("alice"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(add("p2"), as: t.principal("admin"))
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .allUsers)), as: t.principal("admin"))
        // External members only where the organisation allows them.
        t.expectRefused(add("p3", members: [external]), as: t.principal("alice"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(add("p3", members: [T.address("bob")]), as: t.principal("alice"))
        t.expectRefused(.modifyGroup(T.address("p3"), GroupChanges(addMembers: [external])), as: t.principal("alice"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroupsAllowExternal: true)), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("p3"), GroupChanges(addMembers: [external])), as: t.principal("alice"))
        #expect(t.directory.members(of: "p3@acme.test")?.map(\.address.value) == ["bob@acme.test", "friend@elsewhere.test"])
        // The owner manages their personal group; other users don't.
        #expect(t.directory.group(at: T.address("p3"))?.owner == t.user("alice")?.id)
        t.expectRefused(.modifyGroup(T.address("p3"), GroupChanges(name: "Mine")), as: t.principal("bob"), code: .denied, rule: .ownEntriesOnly)
        t.expectApplied(.modifyGroup(T.address("p3"), GroupChanges(name: "Alice's friends")), as: t.principal("alice"))
    }

    @Test("rule 9: delegation without password sharing, by administrators or by owners where policy allows")
    func rule9MailboxDelegation() {
        var t = T()
        let readOnly = PermissionSet([.read])
        // An administrator delegates any mailbox at any level.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("bob"), permissions: PermissionSet(Permission.allCases))), as: t.principal("admin"))
        // A user delegates their own mailbox where the policy allows...
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("carol"), delegate: T.address("bob"), permissions: readOnly)), as: t.principal("carol"))
        // ...but never someone else's.
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("carol"), permissions: readOnly)), as: t.principal("bob"), code: .denied, rule: .mailboxDelegation)
        // Switch delegation off by policy: the user is refused, the administrator is not.
        t.expectApplied(.addPolicy(EmailPolicy(name: "locked", mailboxDelegationAllowed: false)), as: t.principal("admin"))
        t.expectApplied(.modifyUser(T.address("carol"), UserChanges(policy: .set("locked"))), as: t.principal("admin"))
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("carol"), delegate: T.address("alice"), permissions: readOnly)), as: t.principal("carol"), code: .policy, rule: .mailboxDelegation)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("carol"), delegate: T.address("alice"), permissions: readOnly)), as: t.principal("admin"))
        // A policy assigned through a group applies too.
        t.expectApplied(.addGroup(NewGroup(address: T.address("interns"), name: "Interns", kind: .organization, members: [T.address("bob")])), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("interns"), GroupChanges(policy: .set("locked"))), as: t.principal("admin"))
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("alice"), permissions: readOnly)), as: t.principal("bob"), code: .policy, rule: .mailboxDelegation)
        // The delegate acts as itself: its own login holds the rights, nobody's password changes.
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(t.user("alice")?.passwordHash == T.hash)
        // Delegations can be changed and removed.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("bob"), permissions: readOnly)), as: t.principal("admin"))
        #expect(!t.directory.sendAs(login: "bob@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(t.directory.access(user: "bob@acme.test", mailbox: "alice@acme.test", at: t.now)?.permissions == readOnly)
        t.expectRefused(.undelegate(mailbox: T.address("alice"), delegate: T.address("bob")), as: t.principal("carol"), code: .denied, rule: .mailboxDelegation)
        t.expectApplied(.undelegate(mailbox: T.address("alice"), delegate: T.address("bob")), as: t.principal("alice"))
        #expect(t.directory.access(user: "bob@acme.test", mailbox: "alice@acme.test", at: t.now)?.permissions == PermissionSet.none)
        // Administrators list every delegation; users see only their own mailbox's.
        #expect((try? t.directory.authorizeQuery(.allDelegations, by: t.principal("admin"))) != nil)
        #expect(t.directory.allDelegations(at: t.now).map(\.mailbox.value) == ["carol@acme.test", "carol@acme.test"])
        #expect(throws: DirectoryError.self) { try t.directory.authorizeQuery(.allDelegations, by: t.principal("alice")) }
        #expect(throws: DirectoryError.self) { try t.directory.authorizeQuery(.delegates(mailbox: "carol@acme.test"), by: t.principal("alice")) }
        #expect((try? t.directory.authorizeQuery(.delegates(mailbox: "carol@acme.test"), by: t.principal("carol"))) != nil)
    }

    @Test("rule 10: the super administrator is protected, rights need a grant, blocked accounts get nothing, deletes cascade")
    func rule10ProtectedSuperAdministrator() {
        var t = T()
        for actor in ["admin", "helper", "alice"] {
            t.expectRefused(.setBlocked(T.address("boss"), true), as: t.principal(actor), code: .denied, rule: .protectedSuperAdministrator)
            t.expectRefused(.deleteUser(T.address("boss")), as: t.principal(actor), code: .denied, rule: .protectedSuperAdministrator)
            t.expectRefused(.setRole(T.address("boss"), .administrator), as: t.principal(actor), code: .denied, rule: .protectedSuperAdministrator)
            t.expectRefused(.setPassword(T.address("boss"), T.hash), as: t.principal(actor), code: .denied)
        }
        // Not even the super administrator can demote itself without a transfer.
        t.expectRefused(.setRole(T.address("boss"), .user), as: t.principal("boss"), code: .denied, rule: .protectedSuperAdministrator)
        // No right without an authorised grant: a user can't raise their own role.
        t.expectRefused(.setRole(T.address("alice"), .administrator), as: t.principal("alice"), code: .denied, rule: .roleChangeBySuperAdministrator)
        t.expectRefused(.grantCustomRole(T.address("alice"), .userManagement), as: t.principal("alice"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.modifyUser(T.address("alice"), UserChanges(addAliases: [T.address("ceo")])), as: t.principal("alice"), code: .denied)
        // A blocked account gets no rights from any query, and can't act.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("carol"), delegate: T.address("bob"), permissions: PermissionSet([.read, .sendAs]))), as: t.principal("admin"))
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "carol@acme.test", at: t.now).allowed)
        t.expectApplied(.setBlocked(T.address("bob"), true), as: t.principal("helper"))
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "carol@acme.test", at: t.now).reason == .blockedLogin)
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "bob@acme.test", at: t.now).allowed == false)
        #expect(t.directory.mailboxes(of: "bob@acme.test", at: t.now) == [])
        #expect(t.directory.senders(of: "carol@acme.test", at: t.now).map(\.login.value) == ["carol@acme.test"])
        #expect(t.directory.privileges(of: "bob@acme.test")?.privileges == [])
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("alice"), permissions: PermissionSet([.read]))), as: t.principal("bob"), code: .denied, rule: .blockedAccount)
        // Deleting a user removes every delegation and membership that names them.
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization, members: [T.address("bob"), T.address("alice")])), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("team"), permissions: PermissionSet([.read]))), as: t.principal("admin"))
        t.expectApplied(.deleteUser(T.address("bob")), as: t.principal("admin"))
        #expect(t.directory.delegations.isEmpty)
        #expect(t.directory.members(of: "team@acme.test")?.map(\.address.value) == ["alice@acme.test"])
        // Deleting a group removes the delegations to it.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("carol"), delegate: T.address("team"), permissions: PermissionSet([.read]))), as: t.principal("admin"))
        t.expectApplied(.deleteGroup(T.address("team")), as: t.principal("admin"))
        #expect(t.directory.delegations.isEmpty)
        #expect(t.directory.mailboxes(of: "alice@acme.test", at: t.now)?.count == 1)
    }
}
