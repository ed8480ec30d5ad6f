import Foundation
import HashTreeCollections

extension Directory {
    /// May `login` send mail with `address` as the sender? The one function that decides,
    /// used by the protocol's `QUERY SENDAS` and by every mail-server map.
    ///
    /// Allowed for the address's owner (primary address or alias), for delegates holding
    /// `sendas` directly or through a group, and for members of a group that lets its members
    /// send as it. Expired delegations and blocked logins never count.
    public func sendAs(login: String, address: String, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendAs, at: now)
    }

    /// May `login` send on behalf of `address`? As ``sendAs(login:address:at:)`` with the
    /// `sendonbehalf` permission; `sendas`, the stronger right, also allows it.
    public func sendOnBehalf(login: String, address: String, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendOnBehalf, at: now)
    }

    /// May `login` use `address` with `permission`? ``sendAs(login:address:at:)`` and
    /// ``sendOnBehalf(login:address:at:)`` for the sending permissions; for `read` and
    /// `manage` the same reasoning without a group's `sendas=` setting, which gives only
    /// the right to send.
    public func decide(login: String, address: String, permission: Permission, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: permission, at: now)
    }

    /// ``sendAs(login:address:at:)`` for a login and an address given as probes: the same
    /// decision, without a `String` made of either.
    public func sendAs(login: AddressProbe, address: AddressProbe, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendAs, at: now)
    }

    /// ``sendOnBehalf(login:address:at:)`` for a login and an address given as probes.
    public func sendOnBehalf(login: AddressProbe, address: AddressProbe, at now: Date) -> SendDecision {
        sendDecision(login: login, address: address, permission: .sendOnBehalf, at: now)
    }

    private func sendDecision(login: String, address: String, permission: Permission, at now: Date) -> SendDecision {
        guard let loginKey = AddressKey(lookup: login) else { return .refuse(.unknownLogin) }
        return sendDecision(login: loginKey, target: addressEntry(lookup: address), permission: permission, at: now)
    }

    private func sendDecision(login: AddressProbe, address: AddressProbe, permission: Permission, at now: Date) -> SendDecision {
        guard let loginAddress = login.address else { return .refuse(.unknownLogin) }
        guard let targetAddress = address.address else { return sendDecision(login: loginAddress, target: nil, permission: permission, at: now) }
        // The address's entry borrowed, not counted: see ``AddressTable/withEntry(at:_:)``.
        return indexes.addresses.withEntry(at: targetAddress) { target in
            sendDecision(login: loginAddress, target: target, permission: permission, at: now)
        }
    }

    /// The decision for `login`, however it was given, on `target` (`nil`: no such address).
    @inline(__always)
    private func sendDecision<Login: LoginLookup>(login: Login, target: AddressEntry?, permission: Permission, at now: Date) -> SendDecision {
        // The hot path of every mail server. The address's entry carries its owner's login
        // and each delegate's, so an allowed check through the owner or a direct grant is
        // one index lookup. Everything else (refusals, grants through groups) looks the login
        // up as well and goes through the full decision, which agrees with the short one.
        if let target, let decision = Self.directDecision(login, target: target, permission: permission, at: now) {
            return decision
        }
        return login.withEntry(in: indexes.addresses) { loginEntry in
            guard let loginEntry, case .user(let userID) = loginEntry.owner else { return .refuse(.unknownLogin) }
            guard !loginEntry.blocked else {
                // A blocked account uses no address: its own, or one delegated to it.
                switch target?.owner {
                case .user(userID), .alias(userID): return .refuse(.ownerBlocked)
                default: return .refuse(.blockedLogin)
                }
            }
            guard let target else { return .refuse(.unknownAddress) }
            return sendDecision(userID: userID, login: loginEntry, target: target, permission: permission, at: now)
        }
    }

    /// The decision when the login owns the address or holds a direct grant on it, read
    /// from the address's entry alone; `nil` when the full decision is needed. It returns
    /// what ``sendDecision(userID:login:target:permission:at:)`` would: the owner first,
    /// then the first active direct grant in the same order.
    private static func directDecision<Login: LoginLookup>(_ login: Login, target: AddressEntry, permission: Permission, at now: Date) -> SendDecision? {
        switch target.owner {
        case .user, .alias:
            if let owner = target.ownerLogin, login.names(owner) {
                guard !target.blocked else { return nil }
                if case .alias = target.owner { return .allow(.alias) }
                return .allow(.ownAddress)
            }
        case .group:
            // A member of a group that lets its members send as it is allowed through the
            // group before any delegation, which needs the login's groups.
            if target.groupSendAs, permission.isSending { return nil }
        }
        // Read in place: iterating the array counts a reference on its storage, which every
        // thread checking this address writes to.
        return target.delegations.withUnsafeBufferPointer { grants -> SendDecision? in
            for index in grants.indices where grants[index].delegateDigest == login.digest && grants[index].delegateLogin.map(login.names) == true {
                let delegation = grants[index].delegation
                guard !grants[index].delegateBlocked, delegation.isActive(at: now), permissions(delegation.permissions, allow: permission) else {
                    return nil
                }
                return .allow(.delegation(owner: HeldAddress(held: target.primaryHeld), delegation: delegation.id, viaGroup: nil))
            }
            return nil
        }
    }

    /// The decision for a login that exists and is not blocked (its address entry, which
    /// lists its groups), and an address that exists.
    ///
    /// The login's group lists are read only when a delegation to a group or a group
    /// address needs them: each is one more object, usually outside the CPU's caches.
    ///
    /// A refusal names the closest grant the login holds: one that would allow it but has
    /// expired, else one that holds other permissions; a direct grant before one through a
    /// group.
    func sendDecision(userID: EntityID, login: AddressEntry, target: AddressEntry, permission: Permission, at now: Date) -> SendDecision {
        // The address entry of a mailbox carries its delegations, so no further lookup is needed.
        var memberOfTarget = false
        switch target.owner {
        case .user(let id):
            if id == userID { return .allow(.ownAddress) }
        case .alias(let id):
            if id == userID { return .allow(.alias) }
        case .group(let groupID):
            memberOfTarget = permission.isSending && login.groups.contains(groupID)
            if target.groupSendAs, memberOfTarget {
                return .allow(.groupMember(group: target.primary))
            }
        }
        var viaGroup: SendDecision?
        var expired: (id: EntityID, direct: Bool)?
        var lacking: (id: EntityID, direct: Bool)?
        for grant in target.delegations {
            let delegation = grant.delegation
            let direct: Bool
            var group: EmailAddress?
            switch delegation.delegate {
            case .user(let id):
                guard id == userID else { continue }
                direct = true
            case .group(let groupID):
                guard let position = login.groups.firstIndex(of: groupID), position < login.groupAddresses.count else { continue }
                direct = false
                group = login.groupAddresses[position]
            }
            guard Self.permissions(delegation.permissions, allow: permission) else {
                if lacking == nil || (direct && lacking?.direct == false) { lacking = (delegation.id, direct) }
                continue
            }
            guard delegation.isActive(at: now) else {
                if expired == nil || (direct && expired?.direct == false) { expired = (delegation.id, direct) }
                continue
            }
            // A direct grant is the clearest reason; prefer it over one through a group.
            if direct { return .allow(.delegation(owner: HeldAddress(target.primary), delegation: delegation.id, viaGroup: nil)) }
            if viaGroup == nil { viaGroup = .allow(.delegation(owner: HeldAddress(target.primary), delegation: delegation.id, viaGroup: group)) }
        }
        if let viaGroup { return viaGroup }
        if let expired { return .refuse(.expired(delegation: expired.id)) }
        if let lacking { return .refuse(.lacksPermission(delegation: lacking.id)) }
        // A member of a group whose sendas= is off: the group's setting is what refuses.
        if memberOfTarget { return .refuse(.groupSendAsOff(group: target.primary)) }
        return .refuse(.notPermitted)
    }

    static func permissions(_ held: PermissionSet, allow wanted: Permission) -> Bool {
        if held.contains(wanted) { return true }
        return wanted == .sendOnBehalf && held.contains(.sendAs)
    }

    /// The logins that may use `address` as their envelope sender: the reverse map Postfix's
    /// `smtpd_sender_login_maps` needs. Each candidate passes through the same decision as
    /// ``sendAs(login:address:at:)``, so the two always agree.
    public func senders(of address: String, at now: Date) -> [SenderEntry] {
        guard let target = addressEntry(lookup: address) else { return [] }
        var entries: [SenderEntry] = []
        for candidate in candidates(for: target) {
            let decision = sendDecision(userID: candidate.id, login: candidate.login, target: target, permission: .sendAs, at: now)
            if decision.allowed { entries.append(SenderEntry(login: candidate.login.primary, decision: decision)) }
        }
        return entries.sorted { $0.login < $1.login }
    }

    /// Everyone who might hold a right on `target`, each once, with their login's entry,
    /// blocked users left out: the owner, the members of a group (through nested groups),
    /// and every delegate of the mailbox (members of delegate groups included). The
    /// reverse queries take each through the full decision.
    ///
    /// The owner's and each direct delegate's login are reached from the target's entry,
    /// which holds them inline: reading each user out of the map copied the whole user
    /// (every string and array in it reference-counted) and made a key to look its login
    /// up, most of a Postfix `senders` lookup's time. Members of groups are read from the
    /// map.
    func candidates(for target: AddressEntry) -> [(id: EntityID, login: AddressEntry)] {
        var seen = SeenUsers()
        var candidates: [(id: EntityID, login: AddressEntry)] = []
        func add(_ id: EntityID, login: AddressEntry?) {
            guard seen.insert(id), let login, case .user(id) = login.owner, !login.blocked else { return }
            candidates.append((id, login))
        }
        func addMembers(of groupID: EntityID) {
            for member in userMembers(of: groupID) {
                add(member, login: users[member].flatMap { indexes.addresses[AddressKey($0.address)] })
            }
        }
        switch target.owner {
        case .user(let id):
            // The target is the user's own primary address: its entry is the login's.
            add(id, login: target)
        case .alias(let id):
            add(id, login: target.ownerLogin.flatMap { indexes.addresses.entry(at: $0) })
        case .group(let groupID):
            addMembers(of: groupID)
        }
        for grant in target.delegations {
            switch grant.delegation.delegate {
            case .user(let id): add(id, login: grant.delegateLogin.flatMap { indexes.addresses.entry(at: $0) })
            case .group(let groupID): addMembers(of: groupID)
            }
        }
        return candidates
    }

    /// The users in a group, through nested groups too.
    func userMembers(of groupID: EntityID) -> [EntityID] {
        usersUnder(group: groupID)
    }
}

/// One login allowed to send as an address, with the reason.
public struct SenderEntry: Hashable, Sendable {
    /// The login.
    public let login: EmailAddress
    /// The decision that allows it.
    public let decision: SendDecision
}
