import Synchronization

/// A run of audit records shared by the versions of the log that contain it.
///
/// The log only grows at its end, so a version of it is a count over storage that other
/// versions share: slots below a version's count never change. A version adds a record in
/// place when it is the one that reached the furthest into the chunk; a version that was
/// copied and then overtaken (two values grown from the same one) copies its own records
/// into a new chunk first. So appending to a directory whose older version is still
/// published costs one record, not a copy of the path to it in a persistent map.
final class AuditChunk: @unchecked Sendable {
    // @unchecked: `slots` is written only below `filled`, after winning the slot with a
    // compare-and-exchange on it, and read only below a count that some version reached;
    // the version's publication (the directory's lock or actor) orders those reads after
    // the writes.

    /// Records a chunk holds.
    static let capacity = 512

    private let slots: UnsafeMutablePointer<AuditRecord>
    /// Slots taken so far (each one initialized by the append that took it).
    private let filled = Atomic<Int>(0)

    init() {
        slots = .allocate(capacity: Self.capacity)
    }

    deinit {
        slots.deinitialize(count: filled.load(ordering: .acquiring))
        slots.deallocate()
    }

    /// The record in slot `index`, below the count of the version asking.
    subscript(index: Int) -> AuditRecord { slots[index] }

    /// Puts `record` in slot `index` when no version has taken it yet, and says whether it
    /// did. The caller's version holds exactly `index` records of this chunk.
    func claim(_ index: Int, for record: AuditRecord) -> Bool {
        precondition(index < Self.capacity, "an audit chunk holds \(Self.capacity) records")
        guard filled.compareExchange(expected: index, desired: index + 1, ordering: .acquiringAndReleasing).exchanged else { return false }
        (slots + index).initialize(to: record)
        return true
    }

    /// A new chunk holding this one's first `count` records.
    func copy(first count: Int) -> AuditChunk {
        let copy = AuditChunk()
        copy.slots.initialize(from: slots, count: count)
        copy.filled.store(count, ordering: .releasing)
        return copy
    }
}
