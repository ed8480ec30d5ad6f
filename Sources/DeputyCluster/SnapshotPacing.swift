/// When a node writes its next snapshot: after `every` applied records, no sooner than
/// `interval` after the last one began, and no sooner than `costFactor` times what the last
/// one took.
///
/// The last rule is what keeps snapshots cheap under heavy writes on a large directory:
/// encoding the 100,000-user bench directory takes a second or more of a core, and at
/// thousands of writes a second a snapshot every 1,000 or 10,000 records would take the
/// nodes' whole time (and, for shared snapshots, fill PostgreSQL's WAL). Snapshots then take
/// at most `1 / costFactor` of a core, while a small directory, whose snapshots cost
/// milliseconds, keeps its short interval.
struct SnapshotPacing: Sendable {
    let every: Int
    let interval: Duration
    let costFactor: Int
    /// Records applied since the last snapshot began.
    private(set) var recordsSince = 0
    /// When the last snapshot began; `nil` before the first.
    private(set) var lastStarted: ContinuousClock.Instant?
    /// How long the last snapshot took.
    private(set) var lastCost: Duration = .zero

    init(every: Int, interval: Duration, costFactor: Int) {
        self.every = every
        self.interval = interval
        self.costFactor = costFactor
    }

    /// Counts `records` more applied.
    mutating func applied(_ records: Int) { recordsSince += records }

    /// Makes the next check due as soon as the interval allows (a node that has just
    /// replayed or reloaded many records saves them).
    mutating func makeDue() { recordsSince = max(recordsSince, every) }

    /// The gap the rules ask for after the last snapshot began.
    var minimumGap: Duration { max(interval, lastCost * costFactor) }

    /// Whether a snapshot is due at `now`.
    func isDue(at now: ContinuousClock.Instant) -> Bool {
        guard recordsSince >= every else { return false }
        guard let lastStarted else { return true }
        return now - lastStarted >= minimumGap
    }

    /// A snapshot begins at `now`.
    mutating func started(at now: ContinuousClock.Instant) {
        recordsSince = 0
        lastStarted = now
    }

    /// The snapshot that began last took `cost`.
    mutating func finished(cost: Duration) { lastCost = cost }
}
