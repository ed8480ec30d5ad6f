import HashTreeCollections

/// Lowercase address to its index entry: the map every send-as check reads.
///
/// A flat ``AddressTable`` holds the entries as of some earlier version, and a small
/// persistent map holds what changed since (a `nil` for a removed address). A lookup asks
/// the changes only when a filter of their digests says the address may be among them, so
/// nearly every lookup reads only the table. When the changes grow past a few thousand,
/// they are folded into a new table; until then every version of the directory shares the
/// same table, and a command copies only the changes' few nodes and the filter.
struct AddressIndex: Sendable {
    /// Changes kept beside the table before they are folded into a new one by default:
    /// enough that the fold (which copies the table) is rare, few enough that the filter
    /// stays selective.
    static let defaultFoldThreshold = 4096

    /// Changes kept beside the table before they are folded into a new one.
    private let foldThreshold: Int
    private var table: AddressTable
    private var changes: TreeDictionary<AddressKey, AddressEntry?> = [:]
    private var filter = DigestFilter()
    /// The number of addresses.
    private(set) var count: Int

    /// An empty index.
    init(foldThreshold: Int = defaultFoldThreshold) {
        self.foldThreshold = foldThreshold
        table = .empty
        count = 0
    }

    /// An index of `entries`, each under the address it carries.
    init(_ entries: some Collection<AddressEntry>, foldThreshold: Int = defaultFoldThreshold) {
        self.foldThreshold = foldThreshold
        table = AddressTable(entries)
        count = table.count
    }

    /// The entry for `key`, or `nil`; setting `nil` removes the address.
    subscript(key: AddressKey) -> AddressEntry? {
        get {
            if filter.mayContain(key.digest), let changed = changes[key] { return changed }
            return table.entry(for: key)
        }
        set {
            let old = self[key]
            guard old !== newValue else { return }
            count += (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
            if table.entry(for: key) == nil, newValue == nil {
                // Never in the table: forgetting the change is enough.
                changes[key] = nil
            } else {
                changes[key] = .some(newValue)
                filter.insert(key.digest)
            }
            if changes.count >= foldThreshold { fold() }
        }
    }

    /// Every address with its entry, in no particular order.
    var entries: [(key: AddressKey, value: AddressEntry)] {
        var all: [(key: AddressKey, value: AddressEntry)] = []
        all.reserveCapacity(count)
        for entry in table.entries {
            let key = AddressKey(entry.address.address)
            if filter.mayContain(key.digest), changes[key] != nil { continue }
            all.append((key, entry))
        }
        for (key, change) in changes {
            if let change { all.append((key, change)) }
        }
        return all
    }

    /// Every address.
    var keys: [AddressKey] { entries.map(\.key) }

    /// Moves the changes into a new table.
    private mutating func fold() {
        table = table.folding(changes.lazy.map { ($0.key, $0.value) }, changeCount: changes.count)
        changes = [:]
        filter = DigestFilter()
    }
}

extension AddressIndex: Equatable {
    /// The same addresses with equal entries, however the changes are split from the table.
    static func == (lhs: AddressIndex, rhs: AddressIndex) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.table === rhs.table, lhs.changes == rhs.changes { return true }
        return lhs.entries.allSatisfy { rhs[$0.key] == $0.value }
    }
}

/// A bit per digest of the addresses changed since the table was built: a clear bit means
/// the address certainly did not change, so its lookup skips the persistent map.
///
/// 65,536 bits: with ``AddressIndex/defaultFoldThreshold`` changes, about one lookup in sixteen
/// of an unchanged address looks in the changes for nothing. Copied (8 KiB) by the first
/// change after a directory version is published, like any value.
struct DigestFilter: Sendable, Equatable {
    private static let wordCount = 1024
    private var words: [UInt64] = []

    @inline(__always)
    private static func bit(of digest: UInt64) -> (word: Int, mask: UInt64) {
        // The top 16 bits of a scrambled digest: independent of the table's slot choice in
        // practice, and cheap.
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
