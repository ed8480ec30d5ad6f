import DeputyCore
import HashTreeCollections
import Foundation
import Testing

/// Groups inside groups: membership, send-as, delegations, cycles, deletion.
@Suite("Nested groups")
struct NestedGroupTests {
    typealias T = TestDirectory

    /// `staff` (members may send as it) holds `sales`, which holds bob; carol is in `staff` directly.
    static func nested() -> T {
        var t = T()
        t.expectApplied(.addGroup(NewGroup(address: T.address("sales"), name: "Sales", kind: .organization, members: [T.address("bob")])), as: t.principal("admin"))
        t.expectApplied(
            .addGroup(NewGroup(address: T.address("staff"), name: "Staff", kind: .organization, members: [T.address("sales"), T.address("carol")], membersMaySendAs: true)),
            as: t.principal("admin")
        )
        return t
    }

    @Test("a member of a nested group sends as the outer group, and is among its senders")
    func sendAsThroughNesting() {
        let t = Self.nested()
        let decision = t.directory.sendAs(login: "bob@acme.test", address: "staff@acme.test", at: t.now)
        #expect(decision.allowed && decision.reason == .groupMember(group: T.address("staff")))
        #expect(t.directory.senders(of: "staff@acme.test", at: t.now).map(\.login) == [T.address("bob"), T.address("carol")])
        #expect(!t.directory.sendAs(login: "alice@acme.test", address: "staff@acme.test", at: t.now).allowed)
        #expect(t.directory.consistencyProblems().isEmpty)
    }

    @Test("a delegation to a group reaches the members of the groups inside it")
    func delegationThroughNesting() {
        var t = Self.nested()
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("staff"), permissions: PermissionSet([.read, .sendAs]))), as: t.principal("admin"))
        let access = t.directory.access(user: "bob@acme.test", mailbox: "alice@acme.test", at: t.now)
        #expect(access?.permissions == PermissionSet([.read, .sendAs]))
        #expect(access?.grants.first?.viaGroup == T.address("staff"))
        #expect(t.directory.mailboxes(of: "bob@acme.test", at: t.now)?.map(\.mailbox) == [T.address("bob"), T.address("alice")])
        let decision = t.directory.sendAs(login: "bob@acme.test", address: "alice@acme.test", at: t.now)
        #expect(decision.allowed)
        if case .delegation(_, _, let via) = decision.reason { #expect(via == T.address("staff")) } else { Issue.record("\(decision)") }
        #expect(t.directory.senders(of: "alice@acme.test", at: t.now).map(\.login).contains(T.address("bob")))
    }

    @Test("a cycle is refused when it would be made, however long")
    func cycles() {
        var t = Self.nested()
        t.expectRefused(.modifyGroup(T.address("sales"), GroupChanges(addMembers: [T.address("staff")])), as: t.principal("admin"), code: .conflict)
        t.expectRefused(.modifyGroup(T.address("sales"), GroupChanges(addMembers: [T.address("sales")])), as: t.principal("admin"), code: .conflict)
        t.expectApplied(.addGroup(NewGroup(address: T.address("all"), name: "All", kind: .organization, members: [T.address("staff")])), as: t.principal("admin"))
        t.expectRefused(.modifyGroup(T.address("sales"), GroupChanges(addMembers: [T.address("all")])), as: t.principal("admin"), code: .conflict)
        // The same group twice in a hierarchy is no cycle.
        t.expectApplied(.modifyGroup(T.address("all"), GroupChanges(addMembers: [T.address("sales")])), as: t.principal("admin"))
        #expect(t.directory.members(of: "all@acme.test", expanded: true)?.map(\.address) == [T.address("bob"), T.address("carol")])
        #expect(t.directory.consistencyProblems().isEmpty)
    }

    @Test("QUERY MEMBERS: direct members name nested groups; expanded ones name the group that holds each")
    func membersDirectAndExpanded() throws {
        let t = Self.nested()
        let direct = try #require(t.directory.members(of: "staff@acme.test"))
        #expect(direct.map(\.address) == [T.address("carol"), T.address("sales")])
        #expect(direct.map(\.isGroup) == [false, true])
        let expanded = try #require(t.directory.members(of: "staff@acme.test", expanded: true))
        #expect(expanded.map(\.address) == [T.address("bob"), T.address("carol")])
        #expect(expanded.map(\.via) == [T.address("sales"), nil])
    }

    @Test("removing a nested group, or deleting it, takes its members' rights through the outer group; deleting removes it from its parents")
    func removalAndDeletion() {
        var t = Self.nested()
        t.expectApplied(.modifyGroup(T.address("staff"), GroupChanges(removeMembers: [T.address("sales")])), as: t.principal("admin"))
        #expect(!t.directory.sendAs(login: "bob@acme.test", address: "staff@acme.test", at: t.now).allowed)
        t.expectApplied(.modifyGroup(T.address("staff"), GroupChanges(addMembers: [T.address("sales")])), as: t.principal("admin"))
        #expect(t.directory.sendAs(login: "bob@acme.test", address: "staff@acme.test", at: t.now).allowed)
        t.expectApplied(.deleteGroup(T.address("sales")), as: t.principal("admin"))
        #expect(t.directory.group(at: T.address("staff"))?.members.count == 1)
        #expect(!t.directory.sendAs(login: "bob@acme.test", address: "staff@acme.test", at: t.now).allowed)
        #expect(t.directory.consistencyProblems().isEmpty)
        // Deleting the outer group leaves the inner one as it was.
        var u = Self.nested()
        u.expectApplied(.deleteGroup(T.address("staff")), as: u.principal("admin"))
        #expect(u.directory.members(of: "sales@acme.test")?.map(\.address) == [T.address("bob")])
        #expect(u.directory.consistencyProblems().isEmpty)
    }

    @Test("nesting survives the contents' round trip; contents with a cycle are refused")
    func contents() throws {
        let t = Self.nested()
        let rebuilt = try Directory(contents: t.directory.contents)
        #expect(rebuilt.sendAs(login: "bob@acme.test", address: "staff@acme.test", at: t.now).allowed)
        #expect(rebuilt.consistencyProblems().isEmpty)
        var broken = t.directory.contents
        let sales = try #require(t.directory.group(at: T.address("sales")))
        let staff = try #require(t.directory.group(at: T.address("staff")))
        let position = try #require(broken.groups.firstIndex { $0.id == sales.id })
        broken.groups[position].members.insert(.group(staff.id))
        #expect(throws: DirectoryContentsError.self) { try Directory(contents: broken) }
    }

    @Test("an email policy on an outer group applies to the members of the groups inside it")
    func policyThroughNesting() {
        var t = Self.nested()
        let readOnly = PermissionSet([.read])
        t.expectApplied(.addPolicy(EmailPolicy(name: "locked", mailboxDelegationAllowed: false)), as: t.principal("admin"))
        // bob is in sales, which is in staff: staff's policy reaches him.
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("alice"), permissions: readOnly)), as: t.principal("bob"))
        t.expectApplied(.modifyGroup(T.address("staff"), GroupChanges(policy: .set("locked"))), as: t.principal("admin"))
        #expect(!t.directory.effectivePolicy(for: t.directory.user(at: T.address("bob"))!).mailboxDelegationAllowed)
        t.expectRefused(
            .delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("carol"), permissions: readOnly)), as: t.principal("bob"),
            code: .policy, rule: .mailboxDelegation
        )
        // Out of sales, out of staff's reach.
        t.expectApplied(.modifyGroup(T.address("sales"), GroupChanges(removeMembers: [T.address("bob")])), as: t.principal("admin"))
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("bob"), delegate: T.address("carol"), permissions: readOnly)), as: t.principal("bob"))
    }
}
