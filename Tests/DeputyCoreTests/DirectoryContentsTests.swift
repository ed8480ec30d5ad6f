import DeputyCore
import Foundation
import Testing

@Suite("Directory contents")
struct DirectoryContentsTests {
    @Test("contents rebuild the same directory, with sound indexes, through JSON")
    func roundTrip() throws {
        var t = QueryTests.fixture()
        t.expectApplied(.addServiceAccount(ServiceName("postfix")!, TestDirectory.hash), as: t.principal("admin"))
        let data = try JSONEncoder().encode(t.directory.contents)
        let restored = try Directory(contents: JSONDecoder().decode(DirectoryContents.self, from: data))
        #expect(DirectoryFingerprint(restored) == DirectoryFingerprint(t.directory))
        #expect(restored.consistencyProblems().isEmpty)
        #expect(restored.auditLog.all == t.directory.auditLog.all)
        #expect(restored.sendAs(login: "bob@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(restored.senders(of: "alice@acme.test", at: t.now) == t.directory.senders(of: "alice@acme.test", at: t.now))
    }

    @Test("contents that break an invariant are refused")
    func refusesBrokenContents() {
        let good = QueryTests.fixture().directory.contents
        var duplicateAddress = good
        duplicateAddress.users[1].aliases.append(duplicateAddress.users[2].address)
        var danglingDelegation = good
        danglingDelegation.users.removeAll { $0.address.value == "bob@acme.test" }
        var twoSuperAdministrators = good
        twoSuperAdministrators.users[1].role = .superAdministrator
        var staleNextIdentity = good
        staleNextIdentity.nextIdentity = 2
        // A second delegation between the same mailbox and delegate, under an identity of its own.
        var repeatedDelegation = good
        let first = repeatedDelegation.delegations[0]
        repeatedDelegation.delegations.append(Delegation(
            id: EntityID(repeatedDelegation.nextIdentity), mailbox: first.mailbox, delegate: first.delegate,
            permissions: first.permissions, grantedBy: first.grantedBy, grantedAt: first.grantedAt
        ))
        repeatedDelegation.nextIdentity += 1
        for broken in [duplicateAddress, danglingDelegation, twoSuperAdministrators, staleNextIdentity, repeatedDelegation] {
            #expect(throws: DirectoryContentsError.self) { try Directory(contents: broken) }
        }
    }
}
