import DeputyCore
import Foundation
import HashTreeCollections
import Testing

/// Send-as checks by ``AddressProbe`` (the bytes of a request) must decide exactly as the
/// checks by `String`: same answer, same reason, for every kind of text a client may send.
@Suite("Send-as checks from a request's bytes")
struct AddressProbeTests {
    typealias T = TestDirectory

    /// The decision for `login` and `address` by probes, or `nil` when either is not ASCII.
    static func probed(_ directory: Directory, _ login: String, _ address: String, _ permission: Permission, at now: Date) -> SendDecision? {
        var login = login
        var address = address
        return login.withUTF8 { loginBytes in
            address.withUTF8 { addressBytes in
                guard let login = AddressProbe(ascii: loginBytes), let address = AddressProbe(ascii: addressBytes) else { return nil }
                return permission == .sendAs ? directory.sendAs(login: login, address: address, at: now)
                    : directory.sendOnBehalf(login: login, address: address, at: now)
            }
        }
    }

    /// alice's mailbox, with a long alias, delegated to a user whose login is longer than
    /// an entry holds inline, to bob (expired) and to a group; a group whose members may
    /// send as it.
    static func fixture() -> T {
        var t = T()
        let admin = t.principal("admin")
        let long = "a.very.long.local.part.for.testing@acme.test" // 44 bytes: not inline
        t.expectApplied(.addUser(NewUser(address: EmailAddress(long)!, displayName: "Long", passwordHash: T.hash)), as: .system)
        t.expectApplied(.modifyUser(T.address("alice"), UserChanges(addAliases: [T.address("alice.has.an.alias.longer.than.32.bytes")])), as: admin)
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization, members: [T.address("carol")])), as: admin)
        t.expectApplied(.addGroup(NewGroup(address: T.address("sales"), name: "Sales", kind: .organization, members: [EmailAddress(long)!], membersMaySendAs: true)), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: EmailAddress(long)!, permissions: PermissionSet([.sendAs]))), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("bob"), permissions: PermissionSet([.sendAs]), expiresAt: t.now.addingTimeInterval(60))), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("team"), permissions: PermissionSet([.sendOnBehalf]))), as: admin)
        t.now = t.now.addingTimeInterval(120)
        return t
    }

    /// Each text as given, in capitals, and with every other letter a capital.
    static func spellings(_ text: String) -> [String] {
        let mixed = String(text.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
        return [text, text.uppercased(), mixed]
    }

    @Test("every login and address of the directory, unknown ones, long ones and every case agree with the checks by string")
    func agreesWithStrings() {
        let t = Self.fixture()
        let d = t.directory
        let known = d.users.values.flatMap(\.allAddresses).map(\.value) + d.groups.values.map(\.address.value)
        let texts = known + [
            "nobody@acme.test", "alice@acme.tes", "alice@acme.testx", "x",
            "a.very.long.local.part.for.testing@acme.tesT".lowercased() + "x",
            String(repeating: "a", count: 250) + "@a.t", // 254 bytes: the longest an address may be
            String(repeating: "a", count: 251) + "@a.t", // 255: longer than any address
        ]
        var compared = 0
        for login in texts.flatMap(Self.spellings) {
            for address in texts.flatMap(Self.spellings) {
                for permission in [Permission.sendAs, .sendOnBehalf] {
                    let byString = permission == .sendAs ? d.sendAs(login: login, address: address, at: t.now) : d.sendOnBehalf(login: login, address: address, at: t.now)
                    let byProbe = Self.probed(d, login, address, permission, at: t.now)
                    #expect(byProbe == byString, "\(login) \(permission) \(address)")
                    compared += 1
                }
            }
        }
        #expect(compared > 1_000)
        // The fixture covers each way of being allowed and refused.
        let long = "A.Very.Long.Local.Part.For.Testing@ACME.test"
        #expect(Self.probed(d, long, "alice@acme.test", .sendAs, at: t.now)?.allowed == true)
        #expect(Self.probed(d, "ALICE@acme.test", "alice.has.an.alias.longer.than.32.bytes@acme.test", .sendAs, at: t.now)?.reason == .alias)
        #expect(Self.probed(d, long, "sales@acme.test", .sendAs, at: t.now)?.allowed == true)
        #expect(Self.probed(d, "carol@acme.test", "alice@acme.test", .sendOnBehalf, at: t.now)?.allowed == true)
        #expect(Self.probed(d, "bob@acme.test", "alice@acme.test", .sendAs, at: t.now)?.allowed == false)
        #expect(Self.probed(d, "nobody@acme.test", "alice@acme.test", .sendAs, at: t.now)?.reason == .unknownLogin)
        #expect(Self.probed(d, "alice@acme.test", "nobody@acme.test", .sendAs, at: t.now)?.reason == .unknownAddress)
    }

    /// The delegations of `mailbox` found by probe, or `nil` when no user or group has it;
    /// `.none` (the outer `nil`) when the text is not ASCII.
    static func probedDelegates(_ directory: Directory, _ mailbox: String, at now: Date, includeInactive: Bool = false) -> [DelegationView]?? {
        var mailbox = mailbox
        return mailbox.withUTF8 { bytes -> [DelegationView]?? in
            guard let probe = AddressProbe(ascii: bytes) else { return .none }
            var views: [DelegationView] = []
            var granters = GranterLogins()
            let found = directory.forEachDelegate(of: probe, at: now, includeInactive: includeInactive, granters: &granters) { views.append($0) }
            return .some(found ? views : nil)
        }
    }

    @Test("the delegations of every mailbox, unknown ones, long ones and every case, found by probe, are those found by string")
    func delegatesAgreeWithStrings() {
        let t = Self.fixture()
        let d = t.directory
        let known = d.users.values.flatMap(\.allAddresses).map(\.value) + d.groups.values.map(\.address.value)
        let texts = known + ["nobody@acme.test", "alice@acme.tes", "x", String(repeating: "a", count: 251) + "@a.t"]
        var listed = 0
        for mailbox in texts.flatMap(Self.spellings) {
            for includeInactive in [false, true] {
                let byString = d.delegates(of: mailbox, at: t.now, includeInactive: includeInactive)
                #expect(Self.probedDelegates(d, mailbox, at: t.now, includeInactive: includeInactive) == .some(byString), "\(mailbox)")
                listed += byString?.count ?? 0
                // The bytes a reply writes are the addresses the directory's maps hold, inline or long.
                for view in byString ?? [] {
                    let delegation = d.delegations[view.delegation]!
                    let mailbox = d.users[delegation.mailbox]?.address ?? d.groups[delegation.mailbox]!.address
                    let delegate = switch delegation.delegate {
                    case .user(let id): d.users[id]!.address
                    case .group(let id): d.groups[id]!.address
                    }
                    #expect(view.withMailboxUTF8 { String(decoding: $0, as: UTF8.self) } == mailbox.value)
                    #expect(view.withDelegateUTF8 { String(decoding: $0, as: UTF8.self) } == delegate.value)
                }
            }
        }
        #expect(listed > 10)
        let long = d.delegates(of: "alice@acme.test", at: t.now)?.first { $0.delegate.value.utf8.count > 32 }
        #expect(long?.withDelegateUTF8 { $0.count } == 44, "a delegate longer than an entry holds inline")
        // alice's three: the long login's, bob's (expired, so listed only with the inactive) and the group's.
        #expect(Self.probedDelegates(d, "ALICE@acme.test", at: t.now)??.map(\.delegate.value).sorted() == ["a.very.long.local.part.for.testing@acme.test", "team@acme.test"])
        #expect(Self.probedDelegates(d, "alice@acme.test", at: t.now, includeInactive: true)??.count == 3)
        #expect(Self.probedDelegates(d, "nobody@acme.test", at: t.now) == .some(nil))
    }

    @Test("text outside ASCII is not a probe's: such a lookup goes by string")
    func declinesOutsideASCII() {
        for text in ["bjørn@acme.test", "\u{212A}evin@acme.test", "alice@acme.test\u{80}", "é"] {
            var text = text
            #expect(text.withUTF8 { AddressProbe(ascii: $0) } == nil, "\(text)")
        }
        for text in ["", "alice@acme.test", String(repeating: "z", count: 300)] {
            var text = text
            #expect(text.withUTF8 { AddressProbe(ascii: $0) } != nil, "\(text)")
        }
    }
}
