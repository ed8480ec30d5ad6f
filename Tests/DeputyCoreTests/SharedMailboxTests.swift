import DeputyCore
import Foundation
import Testing

/// A group's address delegated like a user's mailbox: who may delegate it, what the
/// queries say, how it relates to the group's own `sendas=`, and what deleting the group
/// leaves.
@Suite("Shared mailboxes")
struct SharedMailboxTests {
    typealias T = TestDirectory

    /// `sales` (alice and bob, sendas=no) delegated to carol (read, sendas) and to helper
    /// (read, expiring in an hour).
    static func fixture() -> T {
        var t = T()
        let admin = t.principal("admin")
        t.expectApplied(.addGroup(NewGroup(address: T.address("sales"), name: "Sales", kind: .organization, members: [T.address("alice"), T.address("bob")])), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("sales"), delegate: T.address("carol"), permissions: PermissionSet([.read, .sendAs]))), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("sales"), delegate: T.address("helper"), permissions: PermissionSet([.read]), expiresAt: t.now.addingTimeInterval(3600))), as: admin)
        return t
    }

    @Test("a group's mailbox is delegated like a user's, and every query treats it so")
    func queries() {
        var t = Self.fixture()
        let d = t.directory
        #expect(d.consistencyProblems().isEmpty)
        let delegates = d.delegates(of: "SALES@acme.test", at: t.now)!
        #expect(delegates.map(\.delegate.value) == ["carol@acme.test", "helper@acme.test"])
        #expect(delegates.allSatisfy { $0.mailbox.value == "sales@acme.test" })
        let carolGrant = delegates[0].delegation
        #expect(d.sendAs(login: "carol@acme.test", address: "sales@acme.test", at: t.now).reason
            == .delegation(owner: HeldAddress(T.address("sales")), delegation: carolGrant, viaGroup: nil))
        #expect(d.access(user: "carol@acme.test", mailbox: "sales@acme.test", at: t.now)?.permissions == PermissionSet([.read, .sendAs]))
        #expect(d.mailboxes(of: "helper@acme.test", at: t.now)?.map(\.mailbox.value) == ["helper@acme.test", "sales@acme.test"])
        #expect(d.senders(of: "sales@acme.test", at: t.now).map(\.login.value) == ["carol@acme.test"])
        // Members hold nothing by membership alone while sendas=no: refused by the group's setting.
        #expect(d.sendAs(login: "alice@acme.test", address: "sales@acme.test", at: t.now).reason == .groupSendAsOff(group: T.address("sales")))
        #expect(d.sendAs(login: "alice@acme.test", address: "sales@acme.test", at: t.now).refusal == "policy")
        #expect(d.access(user: "alice@acme.test", mailbox: "sales@acme.test", at: t.now)?.permissions == PermissionSet.none)
        // helper's grant lacks send-as; once expired, it is named as expired only for what it would allow.
        let helperGrant = delegates[1].delegation
        #expect(d.sendAs(login: "helper@acme.test", address: "sales@acme.test", at: t.now).reason == .lacksPermission(delegation: helperGrant))
        t.now = t.now.addingTimeInterval(7200)
        #expect(t.directory.decide(login: "helper@acme.test", address: "sales@acme.test", permission: .read, at: t.now).reason == .expired(delegation: helperGrant))
        #expect(t.directory.mailboxes(of: "helper@acme.test", at: t.now)?.map(\.mailbox.value) == ["helper@acme.test"])

        // sendas=yes adds every member, through the group first; the delegation stays.
        t.expectApplied(.modifyGroup(T.address("sales"), GroupChanges(membersMaySendAs: true)), as: t.principal("admin"))
        #expect(t.directory.sendAs(login: "alice@acme.test", address: "sales@acme.test", at: t.now).reason == .groupMember(group: T.address("sales")))
        #expect(t.directory.senders(of: "sales@acme.test", at: t.now).map(\.login.value) == ["alice@acme.test", "bob@acme.test", "carol@acme.test"])
        #expect(t.directory.holders(of: "sales@acme.test", permissions: [.read], at: t.now).map(\.login.value) == ["carol@acme.test"])
        #expect(t.directory.consistencyProblems().isEmpty)
    }

    @Test("whoever manages the group delegates its mailbox; a personal group's send rights need an administrator")
    func authority() {
        var t = Self.fixture()
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("sales"), delegate: T.address("bob"), permissions: PermissionSet([.read]))), as: t.principal("alice"), code: .denied)
        t.expectRefused(.undelegate(mailbox: T.address("sales"), delegate: T.address("carol")), as: t.principal("alice"), code: .denied)
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("sales"), delegate: T.address("sales"), permissions: PermissionSet([.read]))), as: t.principal("admin"), code: .invalid)
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .allUsers)), as: t.principal("admin"))
        t.expectApplied(.addGroup(NewGroup(address: T.address("friends"), name: "Friends", kind: .personal, members: [T.address("bob")])), as: t.principal("alice"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("friends"), delegate: T.address("bob"), permissions: PermissionSet([.read]))), as: t.principal("alice"))
        t.expectRefused(.delegate(NewDelegation(mailbox: T.address("friends"), delegate: T.address("bob"), permissions: PermissionSet([.sendOnBehalf]))), as: t.principal("alice"), code: .denied)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("friends"), delegate: T.address("bob"), permissions: PermissionSet([.read, .sendAs]))), as: t.principal("admin"))
        // The delegate may give it up.
        t.expectApplied(.undelegate(mailbox: T.address("sales"), delegate: T.address("carol")), as: t.principal("carol"))
        #expect(t.directory.consistencyProblems().isEmpty)
    }

    @Test("deleting the group removes the delegations of its mailbox; a user without a password is a mailbox like any other")
    func deletion() {
        var t = Self.fixture()
        t.expectApplied(.deleteGroup(T.address("sales")), as: t.principal("admin"))
        #expect(t.directory.delegations.isEmpty)
        #expect(t.directory.mailboxes(of: "carol@acme.test", at: t.now)?.count == 1)
        #expect(t.directory.consistencyProblems().isEmpty)

        // Added without a password, the session gives it a random one nobody knows: no one logs in to it.
        t.expectApplied(.addUser(NewUser(address: T.address("info"), displayName: "Info", passwordHash: T.hasher.hash(UUID().uuidString))), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("info"), delegate: T.address("bob"), permissions: PermissionSet([.read, .sendOnBehalf]))), as: t.principal("admin"))
        #expect(t.directory.sendOnBehalf(login: "bob@acme.test", address: "info@acme.test", at: t.now).allowed)
        #expect(t.directory.rights(of: "bob@acme.test", at: t.now)?.filter { $0.mailbox.value == "info@acme.test" }.map(\.permission) == [.read, .sendOnBehalf])
    }
}
