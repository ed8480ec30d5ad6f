import CDeputyPrefetch
import HashTreeCollections

/// Lowercase address to its index entry: the map every send-as check reads.
///
/// The map itself is a persistent hash tree, which commands change cheaply and every
/// published version shares. Reads go to a flat ``AddressTable`` copied from an earlier
/// version of it, unless a filter of the digests changed since then says the address may
/// be among them; then to the map. After a few thousand changes the table is brought up to
/// date (its slots copied, the changed addresses rewritten), so nearly every lookup reads
/// only the table.
struct AddressIndex: Sendable {
    /// Changes made before the table is brought up to date, by default: enough that copying
    /// its slots (8 MiB for 250,000 addresses) is rare, few enough that the filter stays
    /// selective.
    static let defaultRebuildThreshold = 4096

    /// Changes made before the table is brought up to date.
    private let rebuildThreshold: Int
    /// Every address and its entry: the truth.
    private var map: TreeDictionary<AddressKey, AddressEntry>
    /// The map as it was some changes ago, flat. Its slots do not own their entries: each
    /// is in ``map`` or is the old entry of a change in ``history``.
    private var table: AddressTable
    /// The changes since ``table`` was made, newest first.
    private var history: AddressChange?
    /// Their number, counting repeats.
    private var changesSinceTable = 0
    /// The digests of the addresses they changed, asked before every lookup.
    private var changedDigests = DigestFilter()

    /// An empty index.
    init(rebuildThreshold: Int = defaultRebuildThreshold) {
        self.init(TreeDictionary(), rebuildThreshold: rebuildThreshold)
    }

    /// An index of `map`.
    init(_ map: TreeDictionary<AddressKey, AddressEntry>, rebuildThreshold: Int = defaultRebuildThreshold) {
        self.rebuildThreshold = rebuildThreshold
        self.map = map
        self.table = AddressTable(map)
    }

    /// The number of addresses.
    var count: Int { map.count }

    /// The entry for `key`, or `nil`; setting `nil` removes the address.
    subscript(key: AddressKey) -> AddressEntry? {
        get {
            if changedDigests.mayContain(key.digest) { return map[key] }
            return table.entry(for: key)
        }
        set {
            let old: AddressEntry?
            if let newValue {
                old = map.updateValue(newValue, forKey: key)
            } else {
                old = map.removeValue(forKey: key)
            }
            history = AddressChange(key: key, old: old, next: history)
            changedDigests.insert(key.digest)
            changesSinceTable += 1
            if changesSinceTable >= rebuildThreshold {
                let changed = sequence(first: history!, next: \.next).lazy.map(\.key)
                if !(isKnownUniquelyReferenced(&table) && table.updateInPlace(to: map, changed: changed)) {
                    table = table.updating(to: map, changed: changed)
                }
                history = nil
                changesSinceTable = 0
                changedDigests = DigestFilter()
            }
        }
    }

    /// How much of an entry's delegations the lookahead loads: the first few, which hold
    /// nearly every mailbox's whole list.
    private static let delegationBytesLoaded = 256

    /// Starts loading the memory that looking up each of `digests` reads: first every
    /// lookup's slot, then every entry found, then the entries' delegations. Each stage
    /// waits about one trip to memory for all of the lookups, where looking them up one
    /// after another waits three for each. Digests changed since the table was made are
    /// left to the map. Returns how many entries the table had for them.
    @discardableResult
    func prefetch(_ digests: [UInt64]) -> Int {
        guard !digests.isEmpty else { return 0 }
        for digest in digests where !changedDigests.mayContain(digest) {
            table.prefetchSlot(of: digest)
        }
        return withUnsafeTemporaryAllocation(of: Unmanaged<AddressEntry>?.self, capacity: digests.count) { entries in
            for (index, digest) in digests.enumerated() {
                entries[index] = changedDigests.mayContain(digest) ? nil : table.prefetchEntry(of: digest)
            }
            var found = 0
            for case let entry? in entries.prefix(digests.count) {
                // Alive: the table's entries are (see ``AddressTable``); no reference taken.
                entry._withUnsafeGuaranteedRef { entry in
                    // The first grants, which the check compares with the login; the first
                    // line for writing, as reading an array may count a reference to it.
                    entry.delegations.withUnsafeBufferPointer { grants in
                        let bytes = min(grants.count * MemoryLayout<IndexedDelegation>.stride, Self.delegationBytesLoaded)
                        deputy_prefetch_for_write(grants.baseAddress)
                        deputy_prefetch_lines(grants.baseAddress, UInt(bytes))
                    }
                }
                found += 1
            }
            return found
        }
    }

    /// The entry of `address`, held inline as entries hold their owners' and delegates'
    /// logins: the same answer as the subscript, without making a key (a string) first.
    func entry(at address: InlineAddress) -> AddressEntry? {
        withEntry(at: address) { $0 }
    }

    /// Calls `body` with ``entry(at:)``, borrowed from the table where the table has it
    /// (``AddressTable/withEntry(at:_:)``).
    @inline(__always)
    func withEntry<Result>(at address: InlineAddress, _ body: (AddressEntry?) -> Result) -> Result {
        if changedDigests.mayContain(address.digest) { return body(map[AddressKey(address.address)]) }
        return table.withEntry(at: address, body)
    }

    /// Every address with its entry, in no particular order.
    var entries: TreeDictionary<AddressKey, AddressEntry> { map }

    /// Every address.
    var keys: TreeDictionary<AddressKey, AddressEntry>.Keys { map.keys }
}

/// One change to the map since the table was made, and the ones before it: a list that
/// versions of the index share, so recording a change costs one small object however many
/// versions follow. It names the address, for bringing the table up to date, and holds the
/// entry the change replaced, which the table's slots may still name.
final class AddressChange: Sendable {
    let key: AddressKey
    let old: AddressEntry?
    let next: AddressChange?

    init(key: AddressKey, old: AddressEntry?, next: AddressChange?) {
        self.key = key
        self.old = old
        self.next = next
    }
}

extension AddressIndex: Equatable {
    /// The same addresses with equal entries, whenever each copied its table.
    static func == (lhs: AddressIndex, rhs: AddressIndex) -> Bool {
        lhs.map == rhs.map
    }
}

/// A bit per digest of the addresses changed since the table was built: a clear bit means
/// the address certainly did not change, so the table's answer stands.
///
/// 65,536 bits: with ``AddressIndex/defaultRebuildThreshold`` changes, about one lookup in
/// sixteen of an unchanged address goes to the map for nothing. Copied (8 KiB) by the first
/// change after a directory version is published, like any value.
struct DigestFilter: Sendable {
    private static let wordCount = 1024
    private var words: [UInt64] = []

    @inline(__always)
    private static func bit(of digest: UInt64) -> (word: Int, mask: UInt64) {
        // The top 16 bits of the digest scrambled with another constant than the table's.
        let bits = Int(truncatingIfNeeded: (digest &* 0xC2B2_AE3D_27D4_EB4F) >> 48)
        return (bits >> 6, 1 << UInt64(bits & 63))
    }

    /// Whether an address with `digest` may have changed.
    @inline(__always)
    func mayContain(_ digest: UInt64) -> Bool {
        guard !words.isEmpty else { return false }
        let (word, mask) = Self.bit(of: digest)
        return words.withUnsafeBufferPointer { $0[word] } & mask != 0
    }

    /// Records that an address with `digest` changed.
    mutating func insert(_ digest: UInt64) {
        if words.isEmpty { words = Array(repeating: 0, count: Self.wordCount) }
        let (word, mask) = Self.bit(of: digest)
        words[word] |= mask
    }
}
