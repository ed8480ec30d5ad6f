import DeputyCore
import Foundation

/// Rebuilds the directory from the snapshot and the journal.
///
/// Reading checks everything before anything is changed: the snapshot parses and makes a
/// valid directory, the journal's records are intact (but for a torn tail), follow each
/// other, and continue the snapshot, and the result keeps every invariant. Only then does
/// ``repair(_:in:fileSystem:)`` cut the torn tail and remove temporary files, so a refusal
/// leaves every file as it was.
enum Recovery {
    /// A directory rebuilt from disk.
    struct Recovered: Sendable {
        var directory: Directory
        var report: RecoveryReport
        /// The journal's length up to the end of its last intact record.
        var journalLength: Int
        var journalExists: Bool
    }

    /// Records decoded together before they are applied; bounds the memory replay takes.
    private static let replayBatchSize = 16_384
    /// Records one thread decodes in one piece of a batch.
    private static let decodeChunkSize = 1_024

    /// The record in `frame`, checked against its header.
    private static func decodeRecord(_ frame: JournalFrame.Frame, in bytes: [UInt8], path: String) throws(StoreError) -> JournalRecord {
        let record: JournalRecord
        do {
            record = try JournalRecordCoder().decode(Array(bytes[frame.body]))
        } catch {
            throw StoreError.corruptJournal(path: path, offset: frame.offset, "record \(frame.sequence) does not decode (\(error.reason), at byte \(frame.body.lowerBound + error.offset))")
        }
        guard record.sequence == frame.sequence else {
            throw StoreError.corruptJournal(path: path, offset: frame.offset, "the record's body says sequence \(record.sequence) but its header says \(frame.sequence)")
        }
        return record
    }

    /// Reads the data directory and replays the journal, changing no file.
    static func read(_ dataDirectory: DataDirectory, fileSystem: any StorageFileSystem) throws(StoreError) -> Recovered {
        var report = RecoveryReport()
        let snapshot = try SnapshotFile.load(dataDirectory.snapshotPath, fileSystem: fileSystem)
        report.snapshotSequence = snapshot?.sequence
        report.snapshotSavedAt = snapshot?.savedAt
        var directory = snapshot?.directory ?? Directory()
        let snapshotSequence = directory.revision

        let journalPath = dataDirectory.journalPath
        let bytes: [UInt8]
        let journalExists: Bool
        do {
            journalExists = try fileSystem.info(journalPath) != nil
            bytes = journalExists ? try fileSystem.readFile(journalPath) : []
            for path in dataDirectory.temporaryPaths where try fileSystem.info(path) != nil {
                report.temporaryFiles.append(path)
            }
        } catch {
            throw StoreError.storage("cannot read the journal", error)
        }
        let scan = try JournalScanner.scan(bytes, path: journalPath, previousSequence: snapshotSequence)
        report.journalRecords = scan.frames.count
        report.tornTail = scan.tornTail
        var journalLength = scan.validLength
        if let last = scan.frames.last, last.sequence < snapshotSequence {
            // The next record appended would follow the snapshot, not this journal's last
            // record, and the journal would no longer read back: start it afresh instead.
            report.journalEndsBeforeSnapshot = last.sequence
            journalLength = 0
        }

        if let first = scan.frames.first, first.sequence > snapshotSequence + 1 {
            throw StoreError.corruptJournal(
                path: journalPath, offset: first.offset,
                "the journal starts at record \(first.sequence), but the directory ends at \(snapshotSequence): records \(snapshotSequence + 1) to \(first.sequence - 1) are missing"
            )
        }
        // Records are decoded on every core, a batch at a time, and applied in order.
        let replayed = scan.frames.filter { $0.sequence > snapshotSequence }
        var batchStart = 0
        while batchStart < replayed.count {
            let batch = Array(replayed[batchStart..<min(batchStart + replayBatchSize, replayed.count)])
            let chunks = stride(from: 0, to: batch.count, by: decodeChunkSize).map { $0..<min($0 + decodeChunkSize, batch.count) }
            let decoded: [[JournalRecord]]
            do {
                decoded = try Parallel.map(chunks) { range in
                    try range.map { index throws(StoreError) in try decodeRecord(batch[index], in: bytes, path: journalPath) }
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError(.corruptJournal, "\(journalPath): \(error)", path: journalPath)
            }
            for record in decoded.joined() {
                directory.apply(record.command, context: record.context)
                report.replayedRecords += 1
            }
            batchStart += batch.count
        }
        report.lastSequence = directory.revision

        // The snapshot's directory was checked as it was built; replayed changes each kept
        // the rules as they were applied, and this pass is the guard against a fault there.
        let problems = report.replayedRecords > 0 ? directory.integrityProblems() : []
        guard problems.isEmpty else {
            throw StoreError(
                .inconsistent,
                "the directory recovered from \(dataDirectory.path) breaks its invariants: \(problems.joined(separator: "; ")); recovery stopped and changed nothing",
                path: dataDirectory.path
            )
        }
        return Recovered(directory: directory, report: report, journalLength: journalLength, journalExists: journalExists)
    }

    /// Cuts the journal's torn tail, or all of a journal the snapshot holds (and makes the
    /// cut durable), and removes temporary files.
    static func repair(_ recovered: Recovered, in dataDirectory: DataDirectory, fileSystem: any StorageFileSystem) throws(StoreError) {
        do {
            if recovered.report.tornTail != nil || recovered.report.journalEndsBeforeSnapshot != nil {
                let handle = try fileSystem.openForAppend(dataDirectory.journalPath, truncating: false)
                defer { fileSystem.close(handle) }
                try fileSystem.truncate(handle, toLength: recovered.journalLength)
                try fileSystem.sync(handle)
            }
            for path in recovered.report.temporaryFiles { try fileSystem.remove(path) }
            if !recovered.report.temporaryFiles.isEmpty { try fileSystem.syncDirectory(dataDirectory.path) }
        } catch {
            throw StoreError.storage("cannot repair the journal after a crash", error)
        }
    }
}
