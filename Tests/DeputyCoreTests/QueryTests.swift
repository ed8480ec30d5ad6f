import DeputyCore
import Foundation
import HashTreeCollections
import Testing

@Suite("Queries for mail servers")
struct QueryTests {
    typealias T = TestDirectory

    /// alice's mailbox delegated to bob (sendas), to the team group (read, sendonbehalf),
    /// and to carol (sendas, expiring in an hour); `sales` lets members send as it.
    static func fixture() -> T {
        var t = T()
        let admin = t.principal("admin")
        t.expectApplied(.modifyUser(T.address("alice"), UserChanges(addAliases: [T.address("a.smith")])), as: admin)
        t.expectApplied(.addGroup(NewGroup(address: T.address("team"), name: "Team", kind: .organization, members: [T.address("carol"), T.address("helper")])), as: admin)
        t.expectApplied(.addGroup(NewGroup(address: T.address("sales"), name: "Sales", kind: .organization, members: [T.address("bob")], membersMaySendAs: true)), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("bob"), permissions: PermissionSet([.read, .sendAs]))), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("team"), permissions: PermissionSet([.manage, .sendOnBehalf]))), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: T.address("alice"), delegate: T.address("carol"), permissions: PermissionSet([.sendAs]), expiresAt: t.now.addingTimeInterval(3600))), as: admin)
        return t
    }

    @Test("send-as: own address, alias, direct delegation, group setting, refusals")
    func sendAsReasons() {
        let t = Self.fixture()
        let d = t.directory
        #expect(d.sendAs(login: "alice@acme.test", address: "alice@acme.test", at: t.now).reason == .ownAddress)
        #expect(d.sendAs(login: "alice@acme.test", address: "A.Smith@ACME.test", at: t.now).reason == .alias)
        let viaDelegation = d.sendAs(login: "BOB@acme.test", address: "a.smith@acme.test", at: t.now)
        #expect(viaDelegation.allowed)
        if case .delegation(let owner, _, let group) = viaDelegation.reason {
            #expect(owner.value == "alice@acme.test")
            #expect(group == nil)
        } else {
            Issue.record("expected a delegation, got \(viaDelegation)")
        }
        #expect(d.sendAs(login: "bob@acme.test", address: "sales@acme.test", at: t.now).reason == .groupMember(group: T.address("sales")))
        #expect(d.sendAs(login: "alice@acme.test", address: "sales@acme.test", at: t.now).reason == .notPermitted)
        // helper holds alice's mailbox through team, without sendas: the grant is named.
        let teamGrant = d.delegates(of: "alice@acme.test", at: t.now)!.first { $0.delegate == T.address("team") }!.delegation
        #expect(d.sendAs(login: "helper@acme.test", address: "alice@acme.test", at: t.now).reason == .lacksPermission(delegation: teamGrant))
        #expect(d.sendOnBehalf(login: "helper@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(d.sendAs(login: "nobody@acme.test", address: "alice@acme.test", at: t.now).reason == .unknownLogin)
        #expect(d.sendAs(login: "bob@acme.test", address: "ghost@acme.test", at: t.now).reason == .unknownAddress)
        #expect(d.sendAs(login: "not a login", address: "alice@acme.test", at: t.now).reason == .unknownLogin)
    }

    @Test("addresses match in any case, and only the same address matches")
    func caseInsensitiveLookups() {
        let t = Self.fixture()
        let d = t.directory
        for login in ["bob@acme.test", "BOB@ACME.TEST", "bOb@AcMe.tEsT"] {
            for address in ["alice@acme.test", "ALICE@acme.test", "A.SMITH@Acme.Test"] {
                #expect(d.sendAs(login: login, address: address, at: t.now).allowed, "\(login) as \(address)")
            }
        }
        // Text outside ASCII takes the general lowercasing path, and matches no address.
        #expect(d.sendAs(login: "bob@acme.test", address: "ALICÉ@acme.test", at: t.now).reason == .unknownAddress)
        #expect(d.sendAs(login: "BOB@ACME.TEST", address: "alice@acme.tesT", at: t.now).allowed)
        // Same length and digest-neighbouring spellings of other addresses do not match.
        #expect(d.sendAs(login: "BOB@ACME.TESU", address: "alice@acme.test", at: t.now).reason == .unknownLogin)
        #expect(d.sendAs(login: "B0B@ACME.TEST", address: "alice@acme.test", at: t.now).reason == .unknownLogin)
        #expect(d.sendAs(login: "bob@acme.test", address: "ALICE@ACME.TEST.", at: t.now).reason == .unknownAddress)
        #expect(d.sendAs(login: "Bob@Acme.Test", address: "SALES@ACME.TEST", at: t.now).reason == .groupMember(group: T.address("sales")))
    }

    @Test("addresses longer than the index holds inline decide the same way")
    func longAddresses() {
        var t = Self.fixture()
        let admin = t.principal("admin")
        let long = T.address("a.rather.long.local.part.for.delegates")
        let longOwner = T.address("another.quite.long.local.part.for.owners")
        t.expectApplied(.addUser(NewUser(address: long, displayName: "Long", passwordHash: T.hash)), as: admin)
        t.expectApplied(.addUser(NewUser(address: longOwner, displayName: "Owner", passwordHash: T.hash, aliases: [T.address("owner.alias.with.a.long.local.part")])), as: admin)
        t.expectApplied(.delegate(NewDelegation(mailbox: longOwner, delegate: long, permissions: PermissionSet([.sendAs]))), as: admin)
        let d = t.directory
        let viaDelegation = d.sendAs(login: long.value.uppercased(), address: longOwner.value, at: t.now)
        if case .delegation(let owner, _, let group) = viaDelegation.reason {
            #expect(owner.address == longOwner)
            #expect(group == nil)
        } else {
            Issue.record("expected a delegation, got \(viaDelegation)")
        }
        #expect(d.sendAs(login: longOwner.value.uppercased(), address: "OWNER.alias.with.a.long.local.part@acme.test", at: t.now).reason == .alias)
        #expect(d.sendAs(login: long.value.replacingOccurrences(of: "delegates", with: "delegatez"), address: longOwner.value, at: t.now).reason == .unknownLogin)
        #expect(d.sendAs(login: "bob@acme.test", address: longOwner.value, at: t.now).reason == .notPermitted)
    }

    @Test("send on behalf: the permission, or send-as, allows it")
    func sendOnBehalf() {
        let t = Self.fixture()
        let d = t.directory
        let viaGroup = d.sendOnBehalf(login: "helper@acme.test", address: "alice@acme.test", at: t.now)
        #expect(viaGroup.allowed)
        if case .delegation(_, _, let group) = viaGroup.reason { #expect(group == T.address("team")) } else { Issue.record("\(viaGroup)") }
        #expect(d.sendOnBehalf(login: "bob@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(!d.sendAs(login: "helper@acme.test", address: "alice@acme.test", at: t.now).allowed)
        #expect(!d.sendOnBehalf(login: "admin@acme.test", address: "alice@acme.test", at: t.now).allowed)
    }

    @Test("an expired delegation no longer counts, to the second")
    func expiry() {
        let t = Self.fixture()
        let expiry = t.now.addingTimeInterval(3600)
        #expect(t.directory.sendAs(login: "carol@acme.test", address: "alice@acme.test", at: expiry.addingTimeInterval(-1)).allowed)
        #expect(!t.directory.sendAs(login: "carol@acme.test", address: "alice@acme.test", at: expiry).allowed)
        #expect(t.directory.senders(of: "alice@acme.test", at: expiry).map(\.login.value) == ["alice@acme.test", "bob@acme.test"])
        #expect(t.directory.delegates(of: "alice@acme.test", at: expiry)?.count == 2)
        #expect(t.directory.delegates(of: "alice@acme.test", at: expiry, includeInactive: true)?.count == 3)
    }

    @Test("senders: the reverse map agrees with send-as for every login and address")
    func sendersAgreeWithSendAs() {
        let t = Self.fixture()
        let d = t.directory
        #expect(d.senders(of: "Alice@Acme.Test", at: t.now).map(\.login.value) == ["alice@acme.test", "bob@acme.test", "carol@acme.test"])
        #expect(d.senders(of: "sales@acme.test", at: t.now).map(\.login.value) == ["bob@acme.test"])
        #expect(d.senders(of: "team@acme.test", at: t.now).isEmpty)
        #expect(d.senders(of: "nobody@acme.test", at: t.now).isEmpty)
        let addresses = d.users.values.flatMap(\.allAddresses).map(\.value) + d.groups.values.map(\.address.value) + ["ghost@acme.test"]
        for address in addresses {
            let senders = Set(d.senders(of: address, at: t.now).map(\.login.value))
            for user in d.users.values {
                let allowed = d.sendAs(login: user.address.value, address: address, at: t.now).allowed
                #expect(allowed == senders.contains(user.address.value), "\(user.address) as \(address)")
            }
        }
    }

    @Test("access and mailboxes: owner, direct and group delegations, manage implies read")
    func accessAndMailboxes() {
        let t = Self.fixture()
        let d = t.directory
        let helperAccess = d.access(user: "helper@acme.test", mailbox: "alice@acme.test", at: t.now)
        #expect(helperAccess?.permissions == PermissionSet([.read, .manage, .sendOnBehalf]))
        #expect(helperAccess?.grants.first?.viaGroup == T.address("team"))
        #expect(d.access(user: "alice@acme.test", mailbox: "alice@acme.test", at: t.now)?.isOwner == true)
        #expect(d.access(user: "ghost@acme.test", mailbox: "alice@acme.test", at: t.now) == nil)
        // carol holds sendas directly and manage through the team: the union.
        #expect(d.access(user: "carol@acme.test", mailbox: "alice@acme.test", at: t.now)?.permissions == PermissionSet([.read, .manage, .sendOnBehalf, .sendAs]))
        #expect(d.mailboxes(of: "helper@acme.test", at: t.now)?.map(\.mailbox.value) == ["helper@acme.test", "alice@acme.test"])
        #expect(d.mailboxes(of: "bob@acme.test", at: t.now)?.map(\.mailbox.value) == ["bob@acme.test", "alice@acme.test"])
        // The admin has no delegation: only their own mailbox.
        #expect(d.mailboxes(of: "admin@acme.test", at: t.now)?.map(\.mailbox.value) == ["admin@acme.test"])
    }

    @Test("delegates, members, privileges")
    func delegatesMembersPrivileges() {
        let t = Self.fixture()
        let d = t.directory
        let delegates = d.delegates(of: "alice@acme.test", at: t.now) ?? []
        #expect(delegates.map(\.delegate.value) == ["bob@acme.test", "team@acme.test", "carol@acme.test"])
        #expect(delegates[1].delegateIsGroup)
        #expect(delegates[0].grantedBy == "admin@acme.test")
        #expect(d.delegates(of: "nobody@acme.test", at: t.now) == nil)
        #expect(d.members(of: "team@acme.test")?.map(\.address.value) == ["carol@acme.test", "helper@acme.test"])
        #expect(d.members(of: "alice@acme.test") == nil)
        let boss = d.privileges(of: "boss@acme.test")
        #expect(boss?.role == .superAdministrator)
        #expect(boss?.privileges.contains(.transferSuperAdministrator) == true)
        let admin = d.privileges(of: "admin@acme.test")
        #expect(admin?.privileges.contains(.transferSuperAdministrator) == false)
        #expect(admin?.privileges.contains(.manageUsers) == true)
        #expect(d.privileges(of: "helper@acme.test")?.privileges == [.blockAccounts, .delegateOwnMailbox, .readAuditLog, .recoveryAddresses])
    }

    @Test("the query rights' shortcuts for lookups name exactly the holders the full check lets ask about anyone")
    func lookupShortcutsAgree() throws {
        var t = Self.fixture()
        t.expectApplied(.addServiceAccount(ServiceName("postfix")!, T.hash), as: t.principal("admin"))
        let d = t.directory
        let service = try #require(d.services.keys.first)
        let principals: [Principal] = [.system, .service(service), t.principal("admin"), t.principal("alice"), t.principal("helper")]
        for principal in principals {
            let authorization = try d.queryAuthorization(for: principal)
            // bob's login and mailbox: no principal here is bob.
            let sending = Result { () throws(DirectoryError) in try authorization.authorize(.sending(login: "bob@acme.test"), in: d) }
            let delegates = Result { () throws(DirectoryError) in try authorization.authorize(.delegates(mailbox: "bob@acme.test"), in: d) }
            #expect(authorization.mayAskAboutAnyLogin == ((try? sending.get()) != nil), "\(principal)")
            #expect(authorization.mayListAnyMailboxDelegates == ((try? delegates.get()) != nil), "\(principal)")
        }
        #expect(try d.queryAuthorization(for: t.principal("alice")).mayListAnyMailboxDelegates == false)
        #expect(try d.queryAuthorization(for: .service(service)).mayListAnyMailboxDelegates == true)
    }

    @Test("entries by address, alias and distinguished name")
    func entries() {
        var t = Self.fixture()
        t.expectApplied(.addServiceAccount(ServiceName("postfix")!, T.hash), as: t.principal("admin"))
        let d = t.directory
        let alice = d.entry(for: "a.smith@acme.test")
        #expect(alice?.distinguishedName == "uid=alice,ou=users,dc=acme,dc=test")
        #expect(alice?.values(of: "mailAlternateAddress") == ["a.smith@acme.test"])
        #expect(d.entry(for: "UID=alice, OU=users, DC=acme, DC=test")?.values(of: "mail") == ["alice@acme.test"])
        #expect(d.entry(for: "cn=team,ou=groups,dc=acme,dc=test")?.values(of: "member") == ["carol@acme.test", "helper@acme.test"])
        #expect(d.entry(for: "uid=postfix,ou=services,dc=acme,dc=test")?.kind == .service)
        #expect(d.entry(for: "dc=acme,dc=test")?.values(of: "o") == ["Acme"])
        #expect(d.entry(for: "cn=alice,ou=groups,dc=acme,dc=test") == nil)
        #expect(d.entry(for: "uid=ghost,ou=users,dc=acme,dc=test") == nil)
        #expect(d.entry(for: "garbage") == nil)
    }

    @Test("search with LDAP-style filters")
    func search() throws {
        let t = Self.fixture()
        let d = t.directory
        func find(_ filter: String, limit: Int = 100) throws -> [String] {
            try d.search(SearchFilterParser.parse(filter), limit: limit).entries.map(\.distinguishedName)
        }
        #expect(try find("(mail=ALICE@acme.test)") == ["uid=alice,ou=users,dc=acme,dc=test"])
        #expect(try find("mail=alice@acme.test") == ["uid=alice,ou=users,dc=acme,dc=test"])
        #expect(try find("(uid=bob)") == ["uid=bob,ou=users,dc=acme,dc=test"])
        #expect(try find("(&(objectClass=person)(cn=A*))") == ["uid=admin,ou=users,dc=acme,dc=test", "uid=alice,ou=users,dc=acme,dc=test"])
        #expect(try find("(|(cn=bob)(cn=carol))") == ["uid=bob,ou=users,dc=acme,dc=test", "uid=carol,ou=users,dc=acme,dc=test"])
        #expect(try find("(&(objectClass=groupOfNames)(!(sendas=no)))") == ["cn=sales,ou=groups,dc=acme,dc=test"])
        #expect(try find("(mailAlternateAddress=*)") == ["uid=alice,ou=users,dc=acme,dc=test"])
        #expect(try find("(mail=*e*p*@acme.test)") == ["uid=helper,ou=users,dc=acme,dc=test"])
        #expect(try find("(customRole=helpdesk)") == ["uid=helper,ou=users,dc=acme,dc=test"])
        #expect(try find("(cn=\\28nobody\\29)") == [])
        let limited = try d.search(SearchFilterParser.parse("(objectClass=person)"), limit: 2)
        #expect(limited.entries.count == 2)
        #expect(limited.truncated)
        for bad in ["(mail=a", "(&)", "((mail=a))", "(=x)", "(mail=a(b)", "(cn=\\zz)", String(repeating: "(!", count: 40) + "(cn=a)" + String(repeating: ")", count: 40)] {
            #expect(throws: SearchFilterParser.Failure.self, "\(bad)") { try SearchFilterParser.parse(bad) }
        }
    }
}

@Suite("Recorded sends")
struct RecordedSendTests {
    @Test("the daemon records a delegated send in the audit log, with the delegate as actor; nobody else can")
    func recordDelegatedSend() throws {
        var t = QueryTests.fixture()
        let decision = t.directory.sendAs(login: "bob@acme.test", address: "alice@acme.test", at: t.now)
        guard case .delegation(_, let grant, _) = decision.reason else {
            Issue.record("expected a delegation")
            return
        }
        let command = Command.recordDelegatedSend(login: TestDirectory.address("bob"), sender: TestDirectory.address("alice"), delegation: grant)
        t.expectRefused(command, as: t.principal("admin"), code: .denied, rule: .serviceAccountsOnlyQuery)
        t.expectApplied(command, as: .system)
        let record = try #require(t.directory.auditLog[t.directory.auditLog.lastSequence])
        #expect(record.action == "delegated-send")
        #expect(record.target == "alice@acme.test")
        // The delegate is the actor, so AUDIT actor=<delegate> finds it, and the record
        // names the grant and who gave it.
        #expect(record.actor == "bob@acme.test")
        #expect(record.actorPrincipal == t.principal("bob"))
        #expect(record.detail == "grant=\(grant) permissions=read,sendas grantedby=admin@acme.test")
        t.expectRefused(.recordDelegatedSend(login: TestDirectory.address("bob"), sender: TestDirectory.address("alice"), delegation: EntityID(9999)), as: .system, code: .notFound)
    }
}
