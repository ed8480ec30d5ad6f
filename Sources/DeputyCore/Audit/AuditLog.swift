import Foundation

/// The audit log: every change and every refused change, in order.
///
/// Records sit in fixed chunks that the directory's versions share (``AuditChunk``): the log
/// only grows at its end, so appending to a new version of the directory costs the record
/// alone, and older versions keep their view. (A persistent map keyed by sequence, as it
/// once was, copied a path of nodes full of records for every append.)
public struct AuditLog: Sendable {
    /// Full chunks, oldest first.
    private var sealed: [AuditChunk] = []
    /// The oldest and newest time of each full chunk's records, worked out as it filled.
    private var sealedTimes: [ClosedRange<Date>] = []
    /// The chunk being filled, and how many of its records belong to this version.
    private var tail: AuditChunk?
    private var tailCount = 0
    /// The sequence number of the newest record; 0 when empty.
    public private(set) var lastSequence: UInt64 = 0

    /// An empty log.
    public init() {}

    /// The log holding `records` (read from storage), in sequence order; of two records
    /// with one sequence number, the later in `records` stays.
    init(restoring records: [AuditRecord]) {
        var ordered = records
        if !zip(records, records.dropFirst()).allSatisfy({ $0.sequence < $1.sequence }) {
            // Stable, so that of two records with one sequence the later stays last.
            ordered = records.enumerated().sorted { ($0.element.sequence, $0.offset) < ($1.element.sequence, $1.offset) }.map(\.element)
            ordered = ordered.enumerated().filter { $0.offset + 1 == ordered.count || ordered[$0.offset + 1].sequence != $0.element.sequence }.map(\.element)
        }
        for record in ordered { push(record) }
    }

    /// The number of records.
    public var count: Int { sealed.count * AuditChunk.capacity + tailCount }

    /// The sequence number of the oldest record held; `nil` when empty. Above 1 once the
    /// organisation's retention has dropped older records.
    public var firstSequence: UInt64? { count > 0 ? record(at: 0).sequence : nil }

    /// The record with sequence number `sequence`.
    public subscript(sequence: UInt64) -> AuditRecord? {
        guard count > 0, sequence >= record(at: 0).sequence, sequence <= lastSequence else { return nil }
        // Sequences run from the first without gaps, unless storage held them otherwise.
        let guess = Int(sequence - record(at: 0).sequence)
        if guess < count, record(at: guess).sequence == sequence { return record(at: guess) }
        let low = firstIndex(atOrAfter: sequence)
        return low < count && record(at: low).sequence == sequence ? record(at: low) : nil
    }

    /// The record at position `index` (0 is the oldest).
    private func record(at index: Int) -> AuditRecord {
        let chunk = index / AuditChunk.capacity
        return (chunk < sealed.count ? sealed[chunk] : tail!)[index % AuditChunk.capacity]
    }

    mutating func append(
        time: Date, actor: String, actorPrincipal: Principal, action: String, target: String,
        detail: String, outcome: AuditRecord.Outcome
    ) {
        push(AuditRecord(
            sequence: lastSequence + 1, time: time, actor: actor, actorPrincipal: actorPrincipal, action: action,
            target: target, detail: detail, outcome: outcome
        ))
    }

    /// Adds `record`, newer than every record held, at the end.
    private mutating func push(_ record: AuditRecord) {
        if tailCount == AuditChunk.capacity, let full = tail {
            sealed.append(full)
            var oldest = full[0].time
            var newest = oldest
            for index in 1..<AuditChunk.capacity {
                let time = full[index].time
                oldest = min(oldest, time)
                newest = max(newest, time)
            }
            sealedTimes.append(oldest...newest)
            tail = nil
            tailCount = 0
        }
        let chunk = tail ?? AuditChunk()
        if chunk.claim(tailCount, for: record) {
            tail = chunk
        } else {
            // Another version grown from the same one took the slot: this version goes on
            // in a chunk of its own.
            let own = chunk.copy(first: tailCount)
            let claimed = own.claim(tailCount, for: record)
            precondition(claimed, "a new audit chunk has a free slot")
            tail = own
        }
        tailCount += 1
        lastSequence = record.sequence
    }

    /// Drops the oldest full chunks whose every record is more than `retention` older than
    /// the log's present, and says how many records went.
    ///
    /// The present is `time` (the change being applied), or the oldest record of the newest
    /// full chunk where that is earlier: one change stamped by a clock far ahead can't expire
    /// the log; only a whole chunk of such records moves it. Whole chunks go, so a record is
    /// kept at least until it is `retention` older than that present, and at most until
    /// every record of its chunk is. What is dropped depends only on the records and the
    /// change's time, so every node applying the same log drops the same records.
    @discardableResult
    mutating func trim(retention: TimeInterval, at time: Date) -> Int {
        guard let newest = sealedTimes.last else { return 0 }
        let cutoff = min(time, newest.lowerBound).addingTimeInterval(-retention)
        var expired = 0
        while expired < sealed.count, sealedTimes[expired].upperBound < cutoff { expired += 1 }
        guard expired > 0 else { return 0 }
        sealed.removeFirst(expired)
        sealedTimes.removeFirst(expired)
        return expired * AuditChunk.capacity
    }

    /// Records matching `filter`, newest first, at most `limit` of them, looking at no more
    /// than `scanLimit` records so that one request can't hold a reader for long.
    public func search(_ filter: AuditFilter, limit: Int, scanLimit: Int = 1_000_000) -> [AuditRecord] {
        var found: [AuditRecord] = []
        // Sequences only grow: the newest record before `before` is found by halving, so a
        // page far back (`deputy audit --follow` catching up) is not counted against the
        // scan's bound for every record after it.
        var index = filter.beforeSequence.map { firstIndex(atOrAfter: $0) - 1 } ?? count - 1
        var scanned = 0
        while index >= 0, found.count < limit, scanned < scanLimit {
            defer {
                index -= 1
                scanned += 1
            }
            let record = record(at: index)
            // Newest first: every record past `after` is older still.
            if let after = filter.afterSequence, record.sequence <= after { break }
            if let before = filter.beforeSequence, record.sequence >= before { continue }
            if let until = filter.until, record.time > until { continue }
            if let since = filter.since, record.time < since { continue }
            if let actor = filter.actor, record.actor != actor { continue }
            if let target = filter.target, record.target != target { continue }
            found.append(record)
        }
        return found
    }

    /// The position of the oldest record whose sequence is `sequence` or later; `count` when
    /// there is none.
    private func firstIndex(atOrAfter sequence: UInt64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if record(at: middle).sequence < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Every record, oldest first.
    public var all: [AuditRecord] {
        var records: [AuditRecord] = []
        records.reserveCapacity(count)
        for index in 0..<count { records.append(record(at: index)) }
        return records
    }
}

/// What to look for in the audit log; `nil` fields match everything.
public struct AuditFilter: Sendable, Hashable {
    public var since: Date?
    public var until: Date?
    public var actor: String?
    public var target: String?
    /// Only records after this sequence number (for following the log).
    public var afterSequence: UInt64?
    /// Only records before this sequence number (for the rest of a range one page could not
    /// hold).
    public var beforeSequence: UInt64?

    public init(
        since: Date? = nil, until: Date? = nil, actor: String? = nil, target: String? = nil, afterSequence: UInt64? = nil,
        beforeSequence: UInt64? = nil
    ) {
        self.afterSequence = afterSequence
        self.beforeSequence = beforeSequence
        self.since = since
        self.until = until
        self.actor = actor?.lowercased()
        self.target = target?.lowercased()
    }
}
