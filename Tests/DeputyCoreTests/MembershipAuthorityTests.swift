import DeputyCore
import Foundation
import Testing

private typealias T = TestDirectory

/// Who is in a group decides rights beyond the group: the delegations the group, or a group
/// above it, holds, and the email policy on it or above it. So changing membership is held
/// to the rules of what it changes.
@Suite struct MembershipAuthorityTests {
    /// boss (the super administrator) delegates their mailbox to `assistants`, with alice
    /// in it; bob holds Group Management.
    private static func delegatedToAGroup() -> TestDirectory {
        var t = T()
        t.expectApplied(.addGroup(NewGroup(address: T.address("assistants"), name: "Assistants", kind: .organization, members: [T.address("alice")])), as: t.principal("boss"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("boss"), delegate: T.address("assistants"), permissions: PermissionSet([.read, .sendAs]))), as: t.principal("boss"))
        t.expectApplied(.grantCustomRole(T.address("bob"), .groupManagement), as: t.principal("boss"))
        return t
    }

    private static func mayRead(_ t: TestDirectory, _ login: String, _ address: String) -> Bool {
        t.directory.sendAs(login: T.address(login).description, address: T.address(address).description, at: t.now).allowed
    }

    @Test("joining a group that holds the super administrator's delegation needs the right to make that delegation")
    func joiningAGroupThatHoldsADelegation() {
        var t = Self.delegatedToAGroup()
        #expect(Self.mayRead(t, "alice", "boss"))
        // Group Management may change members, but not give anyone boss's mailbox.
        t.expectRefused(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("bob")])), as: t.principal("bob"), code: .denied)
        #expect(!Self.mayRead(t, "bob", "boss"))
        // Nor may an administrator: only the owner, or someone above them, extends it.
        t.expectRefused(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("admin"), code: .denied, rule: .protectedSuperAdministrator)
        t.expectApplied(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("boss"))
        #expect(Self.mayRead(t, "carol", "boss"))
        // Taking members out gives nothing: Group Management may.
        t.expectApplied(.modifyGroup(T.address("assistants"), GroupChanges(removeMembers: [T.address("carol")])), as: t.principal("bob"))
        #expect(!Self.mayRead(t, "carol", "boss"))
    }

    /// Only administrators see the delegations of another user's mailbox (`QUERY DELEGATES`,
    /// `HOLDERS`, `DELEGATIONS`): a refusal to add members must not tell anyone else which
    /// mailbox a group holds, or through which group, or any Group Management user could map
    /// the delegations by trying every group.
    @Test("a refusal to add members names the delegated mailbox only to those who may see its delegations")
    func refusalNamesTheMailboxOnlyToThoseWhoMaySeeIt() {
        var t = Self.delegatedToAGroup()
        t.expectApplied(.addGroup(NewGroup(address: T.address("inner"), name: "Inner", kind: .organization)), as: t.principal("boss"))
        t.expectApplied(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("inner")])), as: t.principal("boss"))
        for group in ["assistants", "inner"] {
            let command = Command.modifyGroup(T.address(group), GroupChanges(addMembers: [T.address("carol")]))
            t.expectRefused(command, as: t.principal("bob"), code: .denied, rule: .mailboxDelegation)
            guard case .failure(let refusal) = t.apply(command, as: t.principal("bob")) else { continue }
            #expect(!refusal.message.contains(T.address("boss").description), "\(refusal.message)")
            #expect(!refusal.message.contains(T.address("assistants").description), "\(refusal.message)")
            #expect(refusal.message.contains("a delegation you may not give"), "\(refusal.message)")
            // An administrator sees every delegation, and is told which one stands in the way.
            guard case .failure(let toAdmin) = t.apply(command, as: t.principal("admin")) else {
                Issue.record("an administrator added a member who would gain the super administrator's mailbox")
                continue
            }
            #expect(toAdmin.message.contains(T.address("boss").description), "\(toAdmin.message)")
        }
    }

    @Test("a group nested in one that holds a delegation passes it on: nesting it, or joining it, is held to the same rule")
    func nestingUnderAGroupThatHoldsADelegation() {
        var t = Self.delegatedToAGroup()
        t.expectApplied(.addGroup(NewGroup(address: T.address("inner"), name: "Inner", kind: .organization)), as: t.principal("admin"))
        // Nesting an empty group gives nothing yet, but whoever is added to it later gains
        // boss's mailbox: refused all the same.
        t.expectRefused(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("inner")])), as: t.principal("bob"), code: .denied)
        t.expectApplied(.modifyGroup(T.address("assistants"), GroupChanges(addMembers: [T.address("inner")])), as: t.principal("boss"))
        // bob manages `inner` too, but its members would gain boss's mailbox through `assistants`.
        t.expectRefused(.modifyGroup(T.address("inner"), GroupChanges(addMembers: [T.address("bob")])), as: t.principal("bob"), code: .denied)
        #expect(!Self.mayRead(t, "bob", "boss"))
        t.expectApplied(.modifyGroup(T.address("inner"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("boss"))
        #expect(Self.mayRead(t, "carol", "boss"))
    }

    @Test("a group holding a user's delegation: administrators above the user add members, Group Management alone does not")
    func aUsersDelegationToAGroup() {
        var t = T()
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization)), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("team"), permissions: PermissionSet([.read]))), as: t.principal("alice"))
        t.expectApplied(.grantCustomRole(T.address("bob"), .groupManagement), as: t.principal("admin"))
        t.expectRefused(.modifyGroup(T.address("team"), GroupChanges(addMembers: [T.address("bob")])), as: t.principal("bob"), code: .denied, rule: .mailboxDelegation)
        t.expectApplied(.modifyGroup(T.address("team"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("admin"))
        // A delegation that has expired gives nothing, and holds nobody back.
        t.expectApplied(.addGroup(NewGroup(address: T.address("past"), name: "Past", kind: .organization)), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("past"), permissions: PermissionSet([.read]), expiresAt: t.now.addingTimeInterval(60))), as: t.principal("alice"))
        t.expectRefused(.modifyGroup(T.address("past"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("bob"), code: .denied, rule: .mailboxDelegation)
        t.now = t.now.addingTimeInterval(120)
        t.expectApplied(.modifyGroup(T.address("past"), GroupChanges(addMembers: [T.address("carol")])), as: t.principal("bob"))
        // A group with no delegation: Group Management adds members as before.
        t.expectApplied(.addGroup(NewGroup(address: T.address("plain"), name: "Plain", kind: .organization)), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("plain"), GroupChanges(addMembers: [T.address("bob")])), as: t.principal("bob"))
    }

    @Test("moving oneself out of a group under an email policy, or deleting it, needs the right to assign policies as well")
    func membershipOfAGroupUnderAPolicy() {
        var t = T()
        t.expectApplied(.addPolicy(EmailPolicy(name: "locked", mailboxDelegationAllowed: false)), as: t.principal("admin"))
        t.expectApplied(.addGroup(NewGroup(address: T.address("interns"), name: "Interns", kind: .organization, members: [T.address("bob")])), as: t.principal("admin"))
        t.expectApplied(.addGroup(NewGroup(address: T.address("staff"), name: "Staff", kind: .organization, members: [T.address("interns")])), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("staff"), GroupChanges(policy: .set("locked"))), as: t.principal("admin"))
        t.expectApplied(.grantCustomRole(T.address("bob"), .groupManagement), as: t.principal("admin"))
        let read = NewDelegation(mailbox: T.address("bob"), delegate: T.address("carol"), permissions: PermissionSet([.read]))
        t.expectRefused(.delegate(read), as: t.principal("bob"), code: .policy, rule: .mailboxDelegation)
        // bob manages groups, but may not take himself out from under the policy: not
        // from `interns` (inside `staff`), nor by deleting it.
        t.expectRefused(.modifyGroup(T.address("interns"), GroupChanges(removeMembers: [T.address("bob")])), as: t.principal("bob"), code: .denied, rule: .customRoleScope)
        t.expectRefused(.deleteGroup(T.address("interns")), as: t.principal("bob"), code: .denied, rule: .customRoleScope)
        t.expectRefused(.modifyGroup(T.address("staff"), GroupChanges(removeMembers: [T.address("interns")])), as: t.principal("bob"), code: .denied, rule: .customRoleScope)
        t.expectRefused(.delegate(read), as: t.principal("bob"), code: .policy, rule: .mailboxDelegation)
        // Moving others is managing groups, which bob may do.
        t.expectApplied(.modifyGroup(T.address("interns"), GroupChanges(addMembers: [T.address("alice")])), as: t.principal("bob"))
        t.expectApplied(.modifyGroup(T.address("interns"), GroupChanges(removeMembers: [T.address("alice")])), as: t.principal("bob"))
        // Someone who manages groups and assigns policies may move bob: an administrator, or both roles.
        t.expectApplied(.grantCustomRole(T.address("carol"), .userManagement), as: t.principal("admin"))
        t.expectApplied(.grantCustomRole(T.address("carol"), .groupManagement), as: t.principal("admin"))
        t.expectApplied(.modifyGroup(T.address("interns"), GroupChanges(removeMembers: [T.address("bob")])), as: t.principal("carol"))
        t.expectApplied(.delegate(read), as: t.principal("bob"))
    }
}
