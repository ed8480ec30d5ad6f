/// A flat, open-addressed table from address to index entry, built once and then only read.
///
/// The send-as check looks an address up on every request. In a persistent hash tree that
/// lookup walks four levels for a directory of 100,000 users, retaining and releasing each
/// node on the way, and each node is usually outside the CPU's caches. Here a lookup reads
/// one 16-byte slot (the address's digest and its entry) and then the entry, which the
/// check reads anyway: the entry holds its own address inline, so confirming the match
/// touches no other memory. Nothing in a lookup writes to shared memory but the entry's
/// reference count.
///
/// Changes do not go here: ``AddressIndex`` keeps them beside the table and folds them
/// into a new table now and then (``folding(_:)``), so every published directory can share
/// one table however many versions follow it.
final class AddressTable: Sendable {
    struct Slot {
        /// The entry's address digest; meaningless when ``entry`` is `nil`.
        var digest: UInt64
        /// The entry; `nil` marks an empty slot.
        var entry: AddressEntry?
    }

    /// The number of entries.
    let count: Int
    /// The number of slots: a power of two, at least twice ``count``, so probes stay short.
    private let capacity: Int
    /// `64 - log2(capacity)`: a slot's home is the top bits of the scrambled digest.
    private let shift: Int
    // Written only while the table is built (in `init` and `folding`), before any other
    // thread can see it; read-only afterwards, which is what makes the class Sendable.
    nonisolated(unsafe) private let slots: UnsafeMutablePointer<Slot>

    /// An empty table.
    static let empty = AddressTable(minimumCapacity: 0)

    private init(minimumCapacity: Int) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        self.capacity = capacity
        self.shift = 64 - capacity.trailingZeroBitCount
        self.slots = .allocate(capacity: capacity)
        self.slots.initialize(repeating: Slot(digest: 0, entry: nil), count: capacity)
        self.count = 0
    }

    private init(capacity: Int, slots: UnsafeMutablePointer<Slot>, count: Int) {
        self.capacity = capacity
        self.shift = 64 - capacity.trailingZeroBitCount
        self.slots = slots
        self.count = count
    }

    /// A table holding `entries`, each under the address the entry carries.
    convenience init(_ entries: some Collection<AddressEntry>) {
        var builder = Builder(minimumCapacity: entries.count)
        for entry in entries { builder.insert(entry) }
        self.init(capacity: builder.capacity, slots: builder.slots, count: builder.count)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// The entry for `key`, if the table holds one.
    @inline(__always)
    func entry(for key: AddressKey) -> AddressEntry? {
        let mask = capacity &- 1
        var index = Self.home(of: key.digest, shift: shift)
        while true {
            let slot = slots + index
            guard let entry = slot.pointee.entry else { return nil }
            if slot.pointee.digest == key.digest, entry.address.matches(key) { return entry }
            index = (index &+ 1) & mask
        }
    }

    /// Every entry, in no particular order.
    var entries: [AddressEntry] {
        var entries: [AddressEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<capacity {
            if let entry = slots[index].entry { entries.append(entry) }
        }
        return entries
    }

    /// A new table: this one with `changes` applied, where a `nil` entry removes the address.
    func folding(_ changes: some Sequence<(key: AddressKey, value: AddressEntry?)>, changeCount: Int) -> AddressTable {
        var builder = Builder(minimumCapacity: count + changeCount)
        if builder.capacity == capacity {
            // Same size: copy the slots as they are, so only the changed addresses move.
            builder.slots.update(from: slots, count: capacity)
            builder.count = count
        } else {
            for index in 0..<capacity {
                if let entry = slots[index].entry { builder.insert(entry) }
            }
        }
        for (key, entry) in changes {
            builder.remove(key)
            if let entry { builder.insert(entry) }
        }
        return AddressTable(capacity: builder.capacity, slots: builder.slots, count: builder.count)
    }

    /// A slot's home: Fibonacci hashing of the digest, so that nearby digests spread out.
    @inline(__always)
    private static func home(of digest: UInt64, shift: Int) -> Int {
        Int(truncatingIfNeeded: (digest &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Fills a table's slots before the table exists: linear probing, and removal by
    /// shifting back the entries behind the removed one (so no tombstones are left).
    private struct Builder {
        let capacity: Int
        let shift: Int
        let slots: UnsafeMutablePointer<Slot>
        var count = 0

        init(minimumCapacity: Int) {
            var capacity = 16
            while capacity < minimumCapacity * 2 { capacity *= 2 }
            self.capacity = capacity
            self.shift = 64 - capacity.trailingZeroBitCount
            self.slots = .allocate(capacity: capacity)
            self.slots.initialize(repeating: Slot(digest: 0, entry: nil), count: capacity)
        }

        /// Adds `entry` under its address, replacing an entry for the same address.
        mutating func insert(_ entry: AddressEntry) {
            let digest = entry.address.digest
            var index = home(of: digest, shift: shift)
            while let held = slots[index].entry {
                if slots[index].digest == digest, held.address == entry.address {
                    slots[index].entry = entry
                    return
                }
                index = (index &+ 1) & (capacity &- 1)
            }
            precondition(count < capacity / 2, "the address table is sized for its entries")
            slots[index] = Slot(digest: digest, entry: entry)
            count += 1
        }

        /// Removes the entry for `key`, if there is one.
        mutating func remove(_ key: AddressKey) {
            let mask = capacity &- 1
            var index = home(of: key.digest, shift: shift)
            while true {
                guard let held = slots[index].entry else { return }
                if slots[index].digest == key.digest, held.address.matches(key) { break }
                index = (index &+ 1) & mask
            }
            // Knuth's algorithm R: walk the run after the hole and move back each entry
            // whose home is not between the hole and where it sits.
            var hole = index
            var next = index
            while true {
                next = (next &+ 1) & mask
                guard slots[next].entry != nil else { break }
                let home = home(of: slots[next].digest, shift: shift)
                let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
                if staysPut { continue }
                slots[hole] = slots[next]
                hole = next
            }
            slots[hole] = Slot(digest: 0, entry: nil)
            count -= 1
        }
    }
}
