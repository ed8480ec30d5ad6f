import Foundation
import HashTreeCollections

/// The audit log: every change and every refused change, in order.
///
/// Records are kept in a persistent map by sequence number, so appending to a new version
/// of the directory costs O(log n) and old versions keep their view.
public struct AuditLog: Sendable {
    private var records: TreeDictionary<UInt64, AuditRecord> = [:]
    /// The sequence number of the newest record; 0 when empty.
    public private(set) var lastSequence: UInt64 = 0

    /// An empty log.
    public init() {}

    /// The number of records.
    public var count: Int { records.count }

    /// The record with sequence number `sequence`.
    public subscript(sequence: UInt64) -> AuditRecord? { records[sequence] }

    mutating func append(
        time: Date, actor: String, actorPrincipal: Principal, action: String, target: String,
        detail: String, outcome: AuditRecord.Outcome
    ) {
        lastSequence += 1
        records[lastSequence] = AuditRecord(
            sequence: lastSequence, time: time, actor: actor, actorPrincipal: actorPrincipal, action: action,
            target: target, detail: detail, outcome: outcome
        )
    }

    /// Restores a record read from storage.
    mutating func restore(_ record: AuditRecord) {
        records[record.sequence] = record
        lastSequence = max(lastSequence, record.sequence)
    }

    /// Records matching `filter`, newest first, at most `limit` of them, looking at no more
    /// than `scanLimit` records so that one request can't hold a reader for long.
    public func search(_ filter: AuditFilter, limit: Int, scanLimit: Int = 1_000_000) -> [AuditRecord] {
        var found: [AuditRecord] = []
        var sequence = lastSequence
        var scanned = 0
        while sequence > 0, found.count < limit, scanned < scanLimit {
            defer {
                sequence -= 1
                scanned += 1
            }
            guard let record = records[sequence] else { continue }
            if let until = filter.until, record.time > until { continue }
            if let since = filter.since, record.time < since { continue }
            if let actor = filter.actor, record.actor != actor { continue }
            if let target = filter.target, record.target != target { continue }
            if let after = filter.afterSequence, record.sequence <= after { break }
            found.append(record)
        }
        return found
    }

    /// Every record, oldest first.
    public var all: [AuditRecord] {
        (1...max(lastSequence, 1)).compactMap { records[$0] }
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

    public init(since: Date? = nil, until: Date? = nil, actor: String? = nil, target: String? = nil, afterSequence: UInt64? = nil) {
        self.afterSequence = afterSequence
        self.since = since
        self.until = until
        self.actor = actor?.lowercased()
        self.target = target?.lowercased()
    }
}
