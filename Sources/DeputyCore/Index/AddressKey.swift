/// A lowercase address as an index key, with its hash computed once.
///
/// Swift's `String` hashing runs SipHash over the text on every lookup; on the send-as path
/// that was a third of the cost. An `AddressKey` hashes its bytes once with FNV-1a while it
/// lowercases them, and feeds only that 64-bit digest to the hash tree.
struct AddressKey: Hashable, Sendable {
    /// The address in lowercase.
    let text: String
    private let digest: UInt64

    /// A key for an address already in lowercase.
    init(_ address: EmailAddress) {
        self.text = address.value
        self.digest = Self.digest(address.value.utf8)
    }

    /// A key for looking up text as it came from a client: ASCII letters are lowercased
    /// (without a copy when there are none); anything longer than an address can be is `nil`.
    init?(lookup raw: String) {
        let utf8 = raw.utf8
        guard !utf8.isEmpty, utf8.count <= EmailAddress.maximumLength else { return nil }
        var needsLowering = false
        for byte in utf8 where byte >= UInt8(ascii: "A") && (byte <= UInt8(ascii: "Z") || byte >= 0x80) {
            needsLowering = true
            break
        }
        self.text = needsLowering ? Self.lowercased(raw) : raw
        self.digest = Self.digest(text.utf8)
    }

    /// Lowercases ASCII letters without Unicode tables; other text goes the general way.
    private static func lowercased(_ raw: String) -> String {
        let utf8 = raw.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return raw.lowercased() }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var index = 0
            for byte in utf8 {
                buffer[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                index += 1
            }
            return index
        }
    }

    private static func digest(_ bytes: String.UTF8View) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }

    static func == (lhs: AddressKey, rhs: AddressKey) -> Bool {
        lhs.digest == rhs.digest && lhs.text == rhs.text
    }
}

/// What the address index knows of one address: enough to answer send-as from two lookups
/// (the login's entry and the address's), without touching any other map.
struct AddressEntry: Hashable, Sendable {
    /// Who owns the address.
    let owner: AddressOwner
    /// The owning user's primary address, or the group's address.
    let primary: EmailAddress
    /// Whether the owning user is blocked.
    let blocked: Bool
    /// Whether the owning group lets its members send as it.
    let groupSendAs: Bool
    /// For a user's address: the delegations of the user's mailbox (shared with the user's
    /// other addresses, not copied).
    let delegations: [Delegation]
    /// For a user's address: the groups the user belongs to.
    let groups: [EntityID]
    /// The addresses of ``groups``, in the same order, so a reason can name the group
    /// without another lookup.
    let groupAddresses: [EmailAddress]
}
