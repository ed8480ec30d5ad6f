import DeputyCore
import Foundation
import Testing

/// The order of authority: each hole that let an account act on one beside or above it, and
/// the rules for addresses users may claim.
@Suite("The order of authority")
struct AuthorityTests {
    typealias T = TestDirectory

    /// The test organisation plus `admin2`, a second administrator, and `manager`, a User
    /// Management custom administrator.
    static func fixture() -> TestDirectory {
        var t = T()
        t.expectApplied(.addUser(NewUser(address: T.address("admin2"), displayName: "Admin Two", passwordHash: T.hash)), as: .system)
        t.expectApplied(.setRole(T.address("admin2"), .administrator), as: t.principal("boss"))
        t.expectApplied(.addUser(NewUser(address: T.address("manager"), displayName: "Manager", passwordHash: T.hash)), as: .system)
        t.expectApplied(.grantCustomRole(T.address("manager"), .userManagement), as: t.principal("admin"))
        return t
    }

    @Test("an administrator can't delegate the super administrator's or another administrator's mailbox")
    func administratorDelegatesOnlyBelow() {
        var t = Self.fixture()
        let all = PermissionSet([.read, .manage, .sendAs])
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("boss"), delegate: T.address("admin"), permissions: all)), as: t.principal("admin"), code: .denied, rule: .protectedSuperAdministrator)
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("admin2"), delegate: T.address("admin"), permissions: all)), as: t.principal("admin"), code: .denied, rule: .authorityOrder)
        #expect(!t.directory.sendAs(login: "admin@acme.test", address: "boss@acme.test", at: t.now).allowed)
        // Below itself it may; the super administrator may delegate an administrator's; the
        // owner delegates their own.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("manager"), delegate: T.address("admin"), permissions: all)), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("admin2"), delegate: T.address("admin"), permissions: all)), as: t.principal("boss"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("boss"), delegate: T.address("admin"), permissions: PermissionSet([.read]))), as: t.principal("boss"))
        // Removing: the owner, the delegate and those above the owner; not an equal.
        t.expectRefused(.undelegate(mailbox: T.address("admin2"), delegate: T.address("admin")), as: t.principal("bob"), code: .denied, rule: .mailboxDelegation)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("admin2"), delegate: T.address("carol"), permissions: all)), as: t.principal("admin2"))
        t.expectRefused(.undelegate(mailbox: T.address("admin2"), delegate: T.address("carol")), as: t.principal("admin"), code: .denied, rule: .authorityOrder)
        t.expectApplied(.undelegate(mailbox: T.address("admin2"), delegate: T.address("carol")), as: t.principal("boss"))
        t.expectApplied(.undelegate(mailbox: T.address("boss"), delegate: T.address("admin")), as: t.principal("admin"))
    }

    @Test("a user manager can't take over a user who holds another custom role")
    func userManagerActsOnPlainUsersOnly() {
        var t = Self.fixture()
        // helper holds Helpdesk: resetting its password, renaming, deleting it would let the
        // user manager log in as it and hold its scope.
        t.expectRefused(.setPassword(T.address("helper"), T.hash), as: t.principal("manager"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.deleteUser(T.address("helper")), as: t.principal("manager"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.modifyUser(T.address("helper"), UserChanges(displayName: "Mine now")), as: t.principal("manager"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.modifyUser(T.address("helper"), UserChanges(addAliases: [T.address("help")])), as: t.principal("manager"), code: .denied, rule: .authorityOrder)
        // Helpdesk can't block a user manager either, nor a user manager another one.
        t.expectRefused(.setBlocked(T.address("manager"), true), as: t.principal("helper"), code: .denied, rule: .authorityOrder)
        // Plain users stay in scope.
        t.expectApplied(.setPassword(T.address("alice"), T.hash), as: t.principal("manager"))
        t.expectApplied(.modifyUser(T.address("alice"), UserChanges(displayName: "Alice L.")), as: t.principal("manager"))
        // A user manager doesn't give itself addresses (which carry the right to send)...
        t.expectRefused(.modifyUser(T.address("manager"), UserChanges(addAliases: [T.address("ceo")])), as: t.principal("manager"), code: .denied, rule: .authorityOrder)
        // ...nor does an administrator act on an equal.
        t.expectRefused(.setPassword(T.address("admin2"), T.hash), as: t.principal("admin"), code: .denied, rule: .authorityOrder)
        t.expectRefused(.deleteUser(T.address("admin2")), as: t.principal("admin"), code: .denied, rule: .authorityOrder)
        t.expectApplied(.setPassword(T.address("admin2"), T.hash), as: t.principal("boss"))
    }

    @Test("personal groups can't take role or reserved addresses, nor send as themselves without an administrator")
    func personalGroupsClaimNothing() {
        var t = Self.fixture()
        for local in ["postmaster", "abuse", "hostmaster", "webmaster", "Security", "administrator", "root"] {
            t.expectRefused(.addGroup(NewGroup(address: T.address(local), name: "Mine", kind: .personal)), as: t.principal("bob"), code: .denied, rule: .personalGroupCreation)
        }
        // An unused address is fine, but sending as it needs an administrator.
        t.expectRefused(.addGroup(NewGroup(address: T.address("ceo"), name: "CEO", kind: .personal, members: [T.address("bob")], membersMaySendAs: true)), as: t.principal("bob"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(.addGroup(NewGroup(address: T.address("ceo"), name: "CEO", kind: .personal, members: [T.address("bob")])), as: t.principal("bob"))
        t.expectRefused(.modifyGroup(T.address("ceo"), GroupChanges(membersMaySendAs: true)), as: t.principal("bob"), code: .denied, rule: .personalGroupCreation)
        #expect(!t.directory.sendAs(login: "bob@acme.test", address: "ceo@acme.test", at: t.now).allowed)
        t.expectApplied(.modifyGroup(T.address("ceo"), GroupChanges(membersMaySendAs: true)), as: t.principal("admin"))
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "ceo@acme.test", at: t.now).allowed)
        // The owner may always turn it off again.
        t.expectApplied(.modifyGroup(T.address("ceo"), GroupChanges(membersMaySendAs: false)), as: t.principal("bob"))
        // Administrators set the reserved list; the RFC 2142 names stay reserved whatever it says.
        t.expectRefused(.modifyOrganization(OrganizationChanges(reservedLocalParts: ["ceo"])), as: t.principal("bob"), code: .denied)
        t.expectRefused(.modifyOrganization(OrganizationChanges(reservedLocalParts: ["a@b"])), as: t.principal("admin"), code: .invalid)
        t.expectApplied(.modifyOrganization(OrganizationChanges(reservedLocalParts: ["Board", "board"])), as: t.principal("admin"))
        #expect(t.directory.organization?.reservedLocalParts == ["board"])
        t.expectRefused(.addGroup(NewGroup(address: T.address("board"), name: "B", kind: .personal)), as: t.principal("bob"), code: .denied, rule: .personalGroupCreation)
        t.expectApplied(.addGroup(NewGroup(address: T.address("root"), name: "R", kind: .personal)), as: t.principal("bob"))
        t.expectRefused(.addGroup(NewGroup(address: T.address("postmaster"), name: "P", kind: .personal)), as: t.principal("bob"), code: .denied, rule: .personalGroupCreation)
        // Administrators are trusted with any address.
        t.expectApplied(.addGroup(NewGroup(address: T.address("abuse"), name: "Abuse desk", kind: .organization)), as: t.principal("admin"))
    }

    @Test("organisation groups take external members only where the organisation allows it")
    func organizationGroupsExternalMembers() {
        var t = Self.fixture()
        let outsider = EmailAddress("friend@elsewhere.test")!
        t.expectRefused(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization, members: [outsider])), as: t.principal("admin"), code: .denied, rule: .organizationGroupCreation)
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization)), as: t.principal("admin"))
        t.expectRefused(.modifyGroup(T.address("team"), GroupChanges(addMembers: [outsider])), as: t.principal("admin"), code: .denied, rule: .organizationGroupCreation)
        t.expectApplied(.modifyOrganization(OrganizationChanges(organizationGroupsAllowExternal: true)), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("team"), GroupChanges(addMembers: [outsider])), as: t.principal("admin"))
        #expect(t.directory.organization?.groupCreation.organizationGroupsAllowExternal == true)
    }

    @Test("someone else's personal group is managed only from above its owner")
    func personalGroupsOfHigherAccounts() {
        var t = Self.fixture()
        t.expectApplied(.grantCustomRole(T.address("carol"), .groupManagement), as: t.principal("admin"))
        t.expectApplied(.addGroup(NewGroup(address: T.address("bossfriends"), name: "Friends", kind: .personal)), as: t.principal("boss"))
        t.expectApplied(.addGroup(NewGroup(address: T.address("bobfriends"), name: "Friends", kind: .personal)), as: t.principal("bob"))
        t.expectRefused(.modifyGroup(T.address("bossfriends"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("carol"), code: .denied, rule: .protectedSuperAdministrator)
        t.expectRefused(.deleteGroup(T.address("bossfriends")), as: t.principal("admin"), code: .denied, rule: .protectedSuperAdministrator)
        t.expectApplied(.modifyGroup(T.address("bobfriends"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("carol"))
    }

    @Test("a snapshot from before the new organisation settings reads with their defaults")
    func organizationSettingsDecodeFromOlderData() throws {
        let old = #"{"name":"Acme","domains":["acme.test"],"groupCreation":{"organizationGroups":"admins","personalGroups":"all","personalGroupsAllowExternal":true},"defaultPolicy":"default","createdAt":0}"#
        let organization = try JSONDecoder().decode(Organization.self, from: Data(old.utf8))
        #expect(organization.reservedLocalParts == ReservedAddresses.defaultLocalParts)
        #expect(organization.groupCreation.organizationGroupsAllowExternal == false)
        #expect(organization.groupCreation.personalGroupsAllowExternal == true)
    }
}
