import CDeputyPrefetch
import HashTreeCollections
import Synchronization

/// A flat, open-addressed copy of one version of the address map, built once and then only
/// read.
///
/// The send-as check looks an address up on every request. In the persistent hash tree that
/// lookup walks four levels for a directory of 100,000 users, retaining and releasing each
/// node on the way, and each node is usually outside the CPU's caches. Here a lookup reads
/// one 16-byte slot (the address's digest and its entry) and then the entry, which the
/// check reads anyway: the entry holds its own address inline, so confirming the match
/// touches no other memory.
///
/// The slots do not own their entries: ``AddressIndex``, which holds the table, keeps them
/// alive (in its map, or in its list of entries replaced since the table was made). So
/// making a new table from an old one (``updating(to:changed:)``) copies the slots and
/// rewrites only the changed addresses, and freeing a table frees its slots: neither
/// touches the reference counts of the 250,000 entries, each of which would be a cache
/// miss, nor shares the map's nodes (which would make the next changes copy them).
final class AddressTable: Sendable {
    private struct Slot {
        /// The entry's address digest; meaningless when ``entry`` is `nil`.
        var digest: UInt64
        /// The entry; `nil` marks an empty slot.
        var entry: Unmanaged<AddressEntry>?
    }

    /// The number of slots: a power of two, at least twice the number of entries, so
    /// probes stay short.
    private let capacity: Int
    // Written only while the table is made, before any other thread can see it, or when
    // no other reference to the table exists (``updateInPlace(to:changed:)``); read-only
    // otherwise, which is what makes the class Sendable.
    nonisolated(unsafe) private let slots: UnsafeMutablePointer<Slot>

    /// A table of every entry in `map`.
    convenience init(_ map: TreeDictionary<AddressKey, AddressEntry>) {
        let capacity = Self.capacity(for: map.count)
        let slots = Self.emptySlots(capacity)
        for (key, entry) in map {
            Self.insert(digest: key.digest, entry: entry, into: slots, capacity: capacity)
        }
        self.init(capacity: capacity, slots: slots)
    }

    private init(capacity: Int, slots: UnsafeMutablePointer<Slot>) {
        self.capacity = capacity
        self.slots = slots
    }

    deinit {
        // The slots hold no references of their own: nothing to release but the memory,
        // which the next table of this size takes over.
        SpareSlots.keep(UnsafeMutableRawPointer(slots), capacity: capacity)
    }

    /// The entry for `key`, if the table holds one.
    @inline(__always)
    func entry(for key: AddressKey) -> AddressEntry? {
        // Alive: the index holding this table holds the entry (see the type's comment).
        Self.find(key, in: slots, capacity: capacity).map { slots[$0].entry!.takeUnretainedValue() }
    }

    /// The entry whose address is `address`, compared as held inline: no key is made.
    func entry(at address: InlineAddress) -> AddressEntry? {
        withEntry(at: address) { $0 }
    }

    /// Calls `body` with the entry whose address is `address` (or `nil`), borrowed where the
    /// table holds it: returning the entry counted a reference on it, a write to the
    /// entry's first line that every thread answering about the address shares.
    @inline(__always)
    func withEntry<Result>(at address: InlineAddress, _ body: (AddressEntry?) -> Result) -> Result {
        // Alive: the index holding this table holds the entry (see the type's comment).
        guard let index = Self.find(address.digest, in: slots, capacity: capacity, where: { $0.address == address }) else { return body(nil) }
        return slots[index].entry.unsafelyUnwrapped._withUnsafeGuaranteedRef { body($0) }
    }

    /// Starts loading the slot where a lookup of `digest` begins (``AddressLookahead``).
    @inline(__always)
    func prefetchSlot(of digest: UInt64) {
        deputy_prefetch(slots + Self.home(of: digest, capacity: capacity))
    }

    /// Starts loading the entry a lookup of `digest` most likely finds, the first with that
    /// digest on its probe path (its address is not compared: this is only a hint), and
    /// returns it.
    @inline(__always)
    func prefetchEntry(of digest: UInt64) -> Unmanaged<AddressEntry>? {
        var index = Self.home(of: digest, capacity: capacity)
        while let entry = slots[index].entry {
            if slots[index].digest == digest {
                // Every line of the entry, for reading: the check reads fields from all of
                // them, and borrows the entry (``withEntry(at:_:)``) without counting a
                // reference on it.
                deputy_prefetch_lines(entry.toOpaque(), UInt(AddressEntry.byteCount))
                return entry
            }
            index = (index &+ 1) & (capacity &- 1)
        }
        return nil
    }

    /// A table of `map`, which is the map this table was made from with the addresses in
    /// `changed` added, replaced or removed: the slots copied, then only those addresses
    /// rewritten. The entries this table names must still be alive.
    func updating(to map: TreeDictionary<AddressKey, AddressEntry>, changed: some Sequence<AddressKey>) -> AddressTable {
        let newCapacity = Self.capacity(for: map.count)
        let newSlots: UnsafeMutablePointer<Slot>
        if newCapacity == capacity {
            // One pass over the memory: the slots are plain values.
            newSlots = SpareSlots.take(capacity: capacity)?.assumingMemoryBound(to: Slot.self) ?? .allocate(capacity: capacity)
            newSlots.initialize(from: slots, count: capacity)
        } else {
            newSlots = Self.emptySlots(newCapacity)
            // Only the digests are read: no entry is touched.
            for index in 0..<capacity {
                if let entry = slots[index].entry {
                    Self.insert(digest: slots[index].digest, unmanaged: entry, into: newSlots, capacity: newCapacity)
                }
            }
        }
        Self.rewrite(changed, from: map, in: newSlots, capacity: newCapacity)
        return AddressTable(capacity: newCapacity, slots: newSlots)
    }

    /// Brings this table itself up to date, as ``updating(to:changed:)`` would, when the
    /// number of slots still suits `map`; `false` (and nothing changed) when it does not.
    ///
    /// Only for a table nothing else refers to: commands applied in a row with no version
    /// published in between (as recovery replays a journal) then rewrite a few slots
    /// instead of copying 8 MiB that nobody else will read.
    func updateInPlace(to map: TreeDictionary<AddressKey, AddressEntry>, changed: some Sequence<AddressKey>) -> Bool {
        guard Self.capacity(for: map.count) == capacity else { return false }
        Self.rewrite(changed, from: map, in: slots, capacity: capacity)
        return true
    }

    /// Rewrites the slots of each address in `changed` with its entry in `map`, or empties
    /// them. Each changed address's old slot names an entry the caller still keeps alive
    /// (``AddressIndex`` keeps each change's old entry), so finding it is safe; its new
    /// entry, if any, is held by `map`.
    private static func rewrite(
        _ changed: some Sequence<AddressKey>, from map: TreeDictionary<AddressKey, AddressEntry>, in slots: UnsafeMutablePointer<Slot>, capacity: Int
    ) {
        // An address changed twice is rewritten twice, to the same result.
        for key in changed {
            if let index = find(key, in: slots, capacity: capacity) {
                remove(at: index, from: slots, capacity: capacity)
            }
            if let entry = map[key] {
                insert(digest: key.digest, entry: entry, into: slots, capacity: capacity)
            }
        }
    }

    // MARK: - Slots

    private static func capacity(for count: Int) -> Int {
        var capacity = 16
        while capacity < count * 2 { capacity *= 2 }
        return capacity
    }

    private static func emptySlots(_ capacity: Int) -> UnsafeMutablePointer<Slot> {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(digest: 0, entry: nil), count: capacity)
        return slots
    }

    /// A slot's home: Fibonacci hashing of the digest (the top bits of its product with
    /// the golden ratio), so that nearby digests spread out.
    @inline(__always)
    private static func home(of digest: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: (digest &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - capacity.trailingZeroBitCount))
    }

    @inline(__always)
    private static func find(_ key: AddressKey, in slots: UnsafeMutablePointer<Slot>, capacity: Int) -> Int? {
        find(key.digest, in: slots, capacity: capacity) { $0.address.matches(key) }
    }

    /// The slot of the entry with `digest` that `matches`, probing from the digest's home.
    @inline(__always)
    private static func find(
        _ digest: UInt64, in slots: UnsafeMutablePointer<Slot>, capacity: Int, where matches: (AddressEntry) -> Bool
    ) -> Int? {
        var index = home(of: digest, capacity: capacity)
        while let unmanaged = slots[index].entry {
            // Borrowed for the comparison: taking it would count a reference on the entry.
            if slots[index].digest == digest, unmanaged._withUnsafeGuaranteedRef(matches) { return index }
            index = (index &+ 1) & (capacity &- 1)
        }
        return nil
    }

    private static func insert(digest: UInt64, entry: AddressEntry, into slots: UnsafeMutablePointer<Slot>, capacity: Int) {
        insert(digest: digest, unmanaged: .passUnretained(entry), into: slots, capacity: capacity)
    }

    private static func insert(digest: UInt64, unmanaged: Unmanaged<AddressEntry>, into slots: UnsafeMutablePointer<Slot>, capacity: Int) {
        var index = home(of: digest, capacity: capacity)
        while slots[index].entry != nil { index = (index &+ 1) & (capacity &- 1) }
        slots[index] = Slot(digest: digest, entry: unmanaged)
    }

    /// Empties the slot at `index`, moving back the entries after it whose probe would
    /// otherwise stop at the hole (Knuth's algorithm R: no tombstones are left).
    private static func remove(at index: Int, from slots: UnsafeMutablePointer<Slot>, capacity: Int) {
        let mask = capacity &- 1
        var hole = index
        var next = index
        while true {
            next = (next &+ 1) & mask
            guard slots[next].entry != nil else { break }
            let home = home(of: slots[next].digest, capacity: capacity)
            // The entry stays when its home lies cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if staysPut { continue }
            slots[hole] = slots[next]
            hole = next
        }
        slots[hole] = Slot(digest: 0, entry: nil)
    }
}

/// The slots of the last table freed, kept for the next table of the same size.
///
/// A directory that changes while its earlier version is still published makes a new table
/// every few thousand changed addresses, and frees the one before soon after: 8 MiB for
/// 100,000 users. Taken fresh from the system each time, every page of it was faulted in and
/// zeroed before the copy overwrote it, several times the cost of the copy itself. One spare
/// costs one table's memory.
private enum SpareSlots {
    private struct Spare: @unchecked Sendable {
        // @unchecked: the memory belongs to no table while it is here, and moves out whole.
        let memory: UnsafeMutableRawPointer
        let capacity: Int
    }

    private static let spare = Mutex<Spare?>(nil)

    /// Keeps `memory`, the slots of a table of `capacity` slots, in place of the spare held.
    static func keep(_ memory: UnsafeMutableRawPointer, capacity: Int) {
        let replaced = spare.withLock { held in
            defer { held = Spare(memory: memory, capacity: capacity) }
            return held
        }
        replaced?.memory.deallocate()
    }

    /// The spare slots when they are for `capacity` slots (uninitialized), handing them over.
    static func take(capacity: Int) -> UnsafeMutableRawPointer? {
        spare.withLock { held in
            guard let found = held, found.capacity == capacity else { return nil }
            held = nil
            return found.memory
        }
    }
}
