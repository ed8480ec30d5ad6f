import DeputyCore
import Foundation
import Logging

extension Store {
    /// Writes a snapshot of the published directory, then cuts the journal back to the
    /// records that came after it.
    ///
    /// Commits go on while the snapshot is encoded and written; they wait only while the
    /// journal is replaced. Every step is safe to crash in: the new snapshot replaces the
    /// old one atomically (temporary file, fsync, rename, directory fsync) before the
    /// journal is touched; the journal is then replaced the same way by a new one holding
    /// the records committed meanwhile, and both snapshot and old journal recover to the
    /// same directory.
    ///
    /// A failure before the journal is replaced leaves the old journal in use and the store
    /// open. A failure after the new journal's rename (its directory fsync) leaves it
    /// unknown which journal a crash would keep, so the store stops accepting changes.
    @discardableResult
    public func snapshot() async throws(StoreError) -> SnapshotSummary {
        try requireOpen()
        await acquireSnapshotLock()
        defer { releaseSnapshotLock() }
        try requireOpen()
        return try await writeSnapshotAndCutJournal()
    }

    /// Writes a snapshot when `snapshotEveryRecords` records have been journaled since the
    /// last one, or `snapshotEverySeconds` have passed with at least one record; the daemon
    /// calls this from its maintenance loop. Returns `nil` when no snapshot was due, or one
    /// is being written, or the store is not open.
    @discardableResult
    public func snapshotIfDue() async throws(StoreError) -> SnapshotSummary? {
        guard refusal == nil, !snapshotRunning, isSnapshotDue else { return nil }
        return try await snapshot()
    }

    /// Whether a snapshot is due by the configuration's thresholds.
    public var isSnapshotDue: Bool {
        if recordsSinceSnapshot >= configuration.snapshotEveryRecords { return true }
        return recordsSinceSnapshot > 0 && configuration.now().timeIntervalSince(lastSnapshotAt) >= configuration.snapshotEverySeconds
    }

    /// Stops accepting commits, writes the commits already queued, writes a final snapshot
    /// and cuts the journal, and closes the journal. After a storage failure it only
    /// closes: recovery at the next start replays the journal. Last, it lets go of the data
    /// directory's lock. Calling it again does nothing.
    public func close() async throws(StoreError) {
        guard !closeBegan else { return }
        let failed: Bool
        switch phase {
        case .open: failed = false
        case .failed: failed = true
        case .closing, .closed: return
        }
        closeBegan = true
        // A failed store stays failed while it closes: the commits still queued are then
        // refused, not written into a journal it no longer trusts (one a failed cut may
        // already have taken out of the directory).
        if !failed { phase = .closing }
        await acquireSnapshotLock()
        await acquireJournal()
        defer {
            fileSystem.close(journalHandle)
            lock.release()
            phase = .closed
            logger.info("store closed", metadata: ["store.path": "\(dataDirectory.path)", "store.sequence": "\(published.revision)"])
        }
        // Commits prepared before close began are written, not dropped.
        _ = await writePendingBatch()
        guard !failed else { return }
        if case .failed = phase { return }
        let directory = published
        let savedAt = configuration.now()
        let fileSystem = fileSystem
        let snapshotPath = dataDirectory.snapshotPath
        try await snapshotQueue.run { () throws(StoreError) -> Void in
            try SnapshotFile.write(directory, savedAt: savedAt, to: snapshotPath, fileSystem: fileSystem)
        }
        statistics.snapshots += 1
        try await replaceJournal(keeping: CarryOver())
    }

    /// Writes the whole published directory, in the snapshot format, to `path` (mode 0600,
    /// replaced atomically).
    @discardableResult
    public func export(to path: String) async throws(StoreError) -> ExportReport {
        let directory = published
        let savedAt = configuration.now()
        let fileSystem = fileSystem
        return try await snapshotQueue.run { () throws(StoreError) -> ExportReport in
            let bytes = try SnapshotFile.write(directory, savedAt: savedAt, to: path, fileSystem: fileSystem)
            return ExportReport(path: path, sequence: directory.revision, bytes: bytes, counts: DirectoryCounts(directory))
        }
    }

    // MARK: - Steps

    private func writeSnapshotAndCutJournal() async throws(StoreError) -> SnapshotSummary {
        let directory = published
        let savedAt = configuration.now()
        let fileSystem = fileSystem
        let snapshotPath = dataDirectory.snapshotPath
        carryOver = CarryOver()
        let bytes: Int
        do {
            bytes = try await snapshotQueue.run { () throws(StoreError) -> Int in
                try SnapshotFile.write(directory, savedAt: savedAt, to: snapshotPath, fileSystem: fileSystem)
            }
        } catch {
            carryOver = nil
            logger.warning("snapshot failed; the journal is unchanged", metadata: ["store.error": "\(error)"])
            throw error
        }
        statistics.snapshots += 1

        await acquireJournal()
        defer { releaseJournal() }
        let carried = carryOver ?? CarryOver()
        carryOver = nil
        if let refusal { throw refusal }
        try await replaceJournal(keeping: carried)
        lastSnapshotAt = savedAt
        recordsSinceSnapshot = carried.records
        logger.debug(
            "snapshot written",
            metadata: ["store.sequence": "\(directory.revision)", "store.snapshot.bytes": "\(bytes)", "store.journal.carried": "\(carried.records)"]
        )
        return SnapshotSummary(sequence: directory.revision, savedAt: savedAt, bytes: bytes, carriedRecords: carried.records)
    }

    /// Replaces the journal by one holding only `carried`, atomically, and appends to the
    /// new one from now on. Must be called by the task holding the journal.
    private func replaceJournal(keeping carried: CarryOver) async throws(StoreError) {
        let fileSystem = fileSystem
        let journalPath = dataDirectory.journalPath
        let bytes = carried.bytes
        let replaced = await journalQueue.run { () -> Result<StorageFileHandle, AtomicReplace.Failure> in
            Result { () throws(AtomicReplace.Failure) -> StorageFileHandle in
                try AtomicReplace.replace(journalPath, with: bytes, fileSystem: fileSystem, keepOpen: true)!
            }
        }
        switch replaced {
        case .success(let handle):
            fileSystem.close(journalHandle)
            journalHandle = handle
            journalLength = bytes.count
        case .failure(let failure) where failure.renamed:
            // Either journal may be the one a crash keeps; appending to either could lose
            // an acknowledged record.
            enterFailedState("the journal was replaced but its directory could not be synced (\(failure.underlying))")
            throw StoreError.storage("cutting the journal failed after the snapshot", failure.underlying)
        case .failure(let failure):
            logger.warning("cutting the journal failed; it stays as it was", metadata: ["store.error": "\(failure.underlying)"])
            throw StoreError.storage("the snapshot was written, but cutting the journal failed (the old journal stays in use)", failure.underlying)
        }
    }

    private func acquireSnapshotLock() async {
        if snapshotRunning {
            await withCheckedContinuation { snapshotWaiters.append($0) }
        } else {
            snapshotRunning = true
        }
    }

    private func releaseSnapshotLock() {
        if snapshotWaiters.isEmpty {
            snapshotRunning = false
        } else {
            snapshotWaiters.removeFirst().resume()
        }
    }
}

/// A snapshot written by ``Store/snapshot()``.
public struct SnapshotSummary: Hashable, Sendable {
    /// The last journal sequence it includes.
    public let sequence: UInt64
    /// When it was written.
    public let savedAt: Date
    /// Its size in bytes.
    public let bytes: Int
    /// Records committed while it was written, carried into the new journal.
    public let carriedRecords: Int
}
