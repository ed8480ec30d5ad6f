import CDeputyPrefetch

/// What the address index knows of one address: enough to answer send-as from the
/// address's entry alone (through the owner or a direct grant) or with the login's entry as
/// well, without touching any other map.
///
/// A class, not a struct: reading a struct out of the index copies it, retaining each of
/// its arrays and strings, and every retain writes to an object that is usually not in the
/// CPU's cache. Reading this entry retains one object, the one the check reads anyway.
final class AddressEntry: Equatable, Sendable {
    /// The address itself, held inline so that a lookup confirms its match without
    /// reading a string stored elsewhere.
    let address: InlineAddress
    /// Who owns the address.
    let owner: AddressOwner
    /// The owning user's primary address, or the group's address.
    let primary: EmailAddress
    /// Whether the owning user is blocked.
    let blocked: Bool
    /// Whether the owning group lets its members send as it.
    let groupSendAs: Bool
    /// For a user's address: the owning user's primary address as a key, which a login
    /// must equal to be the owner.
    let ownerLogin: InlineAddress?
    /// For a user's address: the delegations of the user's mailbox (shared with the user's
    /// other addresses, not copied), each with its delegate's login.
    let delegations: [IndexedDelegation]
    /// For a user's address: the groups the user belongs to.
    let groups: [EntityID]
    /// The addresses of ``groups``, in the same order, so a reason can name the group
    /// without another lookup.
    let groupAddresses: [EmailAddress]

    init(
        address: InlineAddress, owner: AddressOwner, primary: EmailAddress, blocked: Bool, groupSendAs: Bool, ownerLogin: InlineAddress?, delegations: [IndexedDelegation],
        groups: [EntityID], groupAddresses: [EmailAddress]
    ) {
        self.address = address
        self.owner = owner
        self.primary = primary
        self.blocked = blocked
        self.groupSendAs = groupSendAs
        self.ownerLogin = ownerLogin
        self.delegations = delegations
        self.groups = groups
        self.groupAddresses = groupAddresses
    }

    /// ``primary`` as the entry holds it inline (the owner's login for a user's address or
    /// alias, the address itself for a group's): the hot answers name the owner from this,
    /// since counting a reference on the shared ``primary`` is a write to memory that every
    /// thread answering about the address reads, usually outside the cache.
    var primaryHeld: InlineAddress {
        ownerLogin ?? address
    }

    /// The bytes an entry takes on the heap, its header included: about four cache lines,
    /// all of which a send-as check reads, so the lookahead loads them all
    /// (``AddressTable/prefetchEntry(of:)``). Measured once, on an entry made for it.
    static let byteCount: Int = {
        let address = EmailAddress(trusted: "size@example.com")
        let sample = AddressEntry(
            address: InlineAddress(address), owner: .group(EntityID(0)), primary: address, blocked: false, groupSendAs: false, ownerLogin: nil,
            delegations: [], groups: [], groupAddresses: []
        )
        return withExtendedLifetime(sample) { Int(deputy_allocation_size(Unmanaged.passUnretained(sample).toOpaque())) }
    }()

    static func == (lhs: AddressEntry, rhs: AddressEntry) -> Bool {
        lhs === rhs
            || (lhs.address == rhs.address && lhs.owner == rhs.owner && lhs.primary == rhs.primary && lhs.blocked == rhs.blocked && lhs.groupSendAs == rhs.groupSendAs
                && lhs.ownerLogin == rhs.ownerLogin && lhs.delegations == rhs.delegations && lhs.groups == rhs.groups && lhs.groupAddresses == rhs.groupAddresses)
    }
}
