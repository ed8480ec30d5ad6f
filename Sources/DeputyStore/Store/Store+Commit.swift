import DeputyCore
import Foundation
import Logging

extension Store {
    /// Applies `command` on behalf of `context.actor`, journals it, and returns once its
    /// record is durable.
    ///
    /// The command is applied to the newest directory (which includes commands
    /// still waiting for the disk, as they come first in the journal). Its record, refused
    /// commands included, since a refusal writes the audit log, joins the next batch; one
    /// write and one fsync cover the whole batch. ``live`` is published when the batch is
    /// durable, before this returns.
    ///
    /// - Returns: the directory's answer and the command's sequence.
    /// - Throws: ``StoreError/Code-swift.struct/storage`` when the record could not be made
    ///   durable: then nothing of the command is published or kept. After a failed fsync
    ///   every later commit fails the same way until the store is reopened.
    public func commit(_ command: Command, context: CommandContext) async throws(StoreError) -> CommitOutcome {
        try requireOpen()
        let prepared = try prepare(command, context: context)
        let turn: BatchTurn
        if journalBusy {
            turn = await withCheckedContinuation { continuation in
                var waiting = prepared
                waiting.waiter = continuation
                pending.append(waiting)
            }
        } else {
            journalBusy = true
            pending.append(prepared)
            turn = .lead
        }
        switch turn {
        case .finished(let outcome):
            return try outcome.get()
        case .lead:
            let outcome = await writePendingBatch()
            releaseJournal()
            guard let outcome else { preconditionFailure("a batch leader's own commit is in its batch") }
            return try outcome.get()
        }
    }

    /// Encodes the command's record and applies the command to the speculative directory.
    ///
    /// The record comes first, so a command whose record cannot be encoded changes nothing;
    /// its sequence is known before, since every command, refused or not, takes the next
    /// revision. The command is applied to ``tip`` in place: the directory versions between
    /// two batches are never published, and keeping each would make every command copy the
    /// paths of the persistent maps it changes (and free them again) rather than change
    /// nodes the batch already owns.
    private func prepare(_ command: Command, context: CommandContext) throws(StoreError) -> PendingCommit {
        let sequence = tip.revision + 1
        let record = JournalRecord(sequence: sequence, time: configuration.now(), context: context, command: command)
        let body = try coder.encode(record)
        let result = tip.apply(command, context: context)
        precondition(tip.revision == sequence, "a command must take exactly the next revision")
        return PendingCommit(sequence: sequence, body: body, result: result, waiter: nil)
    }

    // MARK: - Batches

    /// What writing a batch came to, on the journal's thread.
    private enum BatchWrite: Sendable {
        case durable([UInt8])
        /// The write failed; the journal was cut back to its durable length, or not.
        case writeFailed(StorageFileSystemError, rollbackError: StorageFileSystemError?)
        /// The fsync failed; the journal was cut back to its durable length, or not.
        case syncFailed(StorageFileSystemError, rollbackError: StorageFileSystemError?)
    }

    /// Writes every pending commit as one batch and resumes their callers. Must be called
    /// by the task holding the journal. Returns the outcome of the commit without a waiter
    /// (the caller's own), if it was in the batch.
    func writePendingBatch() async -> Result<CommitOutcome, StoreError>? {
        let batch = pending
        pending = []
        guard !batch.isEmpty else { return nil }
        // The directory right after the batch's last command: commands prepared later (while
        // the batch is written) change ``tip`` after this copy, not this copy.
        let directory = tip
        if case .failed = phase, let failure = refusal {
            // The journal is no longer trusted: nothing more goes into it.
            failQueuedCommits(failure)
            return complete(batch, with: Array(repeating: .failure(failure), count: batch.count))
        }
        let records = batch.map { (sequence: $0.sequence, body: $0.body) }
        let handle = journalHandle
        let durableLength = journalLength
        let fileSystem = fileSystem
        let write = await journalQueue.run { () -> BatchWrite in
            /// Cuts off whatever part of the batch reached the file, durably; the failure
            /// to, if any. The journal then ends with its last durable record again: later
            /// batches follow it, and a restart does not replay a batch refused to its clients.
            func cutBack() -> StorageFileSystemError? {
                do throws(StorageFileSystemError) {
                    try fileSystem.truncate(handle, toLength: durableLength)
                    try fileSystem.sync(handle)
                    return nil
                } catch {
                    return error
                }
            }
            let bytes = JournalFrame.encodeBatch(records)
            do throws(StorageFileSystemError) {
                try fileSystem.write(bytes, to: handle)
            } catch {
                return .writeFailed(error, rollbackError: cutBack())
            }
            let started = ContinuousClock.now
            do throws(StorageFileSystemError) {
                try fileSystem.sync(handle)
            } catch {
                // Left in the file (the kernel keeps what was written), the batch would come
                // back when the journal is read again.
                return .syncFailed(error, rollbackError: cutBack())
            }
            StoreMetrics.recordJournalSync(since: started)
            return .durable(bytes)
        }
        statistics.batches += 1

        let outcomes: [Result<CommitOutcome, StoreError>]
        switch write {
        case .durable(let bytes):
            journalLength += bytes.count
            published = directory
            live.publish(published)
            recordsSinceSnapshot += batch.count
            statistics.records += batch.count
            if carryOver != nil {
                carryOver!.bytes.append(contentsOf: bytes)
                carryOver!.records += batch.count
            }
            outcomes = batch.map { .success(CommitOutcome(result: $0.result, sequence: $0.sequence)) }
        case .writeFailed(let error, let rollbackError):
            let failure: StoreError
            if let rollbackError {
                enterFailedState("a journal write failed (\(error)) and cutting it back failed too (\(rollbackError))")
                failure = StoreError.outcomeUnknown("a journal write failed and the journal could not be cut back to its last durable record", error)
            } else {
                logger.warning("journal write failed; the batch was refused and the journal cut back", metadata: ["store.error": "\(error)"])
                failure = StoreError.storage("the change was not stored; nothing changed", error)
            }
            outcomes = Array(repeating: .failure(failure), count: batch.count)
        case .syncFailed(let error, let rollbackError):
            // After a failed fsync the kernel may have dropped the written pages while
            // marking them clean, so a later fsync could succeed without writing them:
            // nothing written since the last good fsync can be trusted again.
            let failure: StoreError
            if let rollbackError {
                enterFailedState("fsync of the journal failed (\(error)) and cutting it back failed too (\(rollbackError))")
                failure = StoreError.outcomeUnknown("the journal's fsync failed and the journal could not be cut back to its last durable record", error)
            } else {
                enterFailedState("fsync of the journal failed (\(error)); the journal was cut back to its last durable record")
                failure = StoreError.storage("the change may not be durable, so it was not applied and the journal was cut back", error)
            }
            outcomes = Array(repeating: .failure(failure), count: batch.count)
        }

        if case .failure(let failure) = outcomes[0] {
            failQueuedCommits(failure)
        }
        return complete(batch, with: outcomes)
    }

    /// Resumes the callers of `batch` with their outcomes; returns the outcome of the commit
    /// without a waiter, the calling task's own.
    private func complete(_ batch: [PendingCommit], with outcomes: [Result<CommitOutcome, StoreError>]) -> Result<CommitOutcome, StoreError>? {
        var own: Result<CommitOutcome, StoreError>?
        for (commit, outcome) in zip(batch, outcomes) {
            if let waiter = commit.waiter {
                waiter.resume(returning: .finished(outcome))
            } else {
                own = outcome
            }
        }
        return own
    }

    /// Refuses every queued commit and forgets the speculative directory: the queued
    /// commands were applied on top of a batch that did not become durable.
    private func failQueuedCommits(_ error: StoreError) {
        tip = published
        let queued = pending
        pending = []
        for commit in queued {
            commit.waiter?.resume(returning: .finished(.failure(error)))
        }
    }

    // MARK: - Holding the journal

    /// Waits until this task holds the journal, for a cut or for closing.
    func acquireJournal() async {
        if journalBusy {
            await withCheckedContinuation { journalWaiters.append($0) }
        } else {
            journalBusy = true
        }
    }

    /// Hands the journal to the next task: a waiting cut or close first, else the first
    /// queued commit, which writes the next batch.
    func releaseJournal() {
        if !journalWaiters.isEmpty {
            journalWaiters.removeFirst().resume()
        } else if let first = pending.first, let waiter = first.waiter {
            pending[0].waiter = nil
            waiter.resume(returning: .lead)
        } else {
            journalBusy = false
        }
    }
}

/// A committed command: the directory's answer and the command's sequence.
public struct CommitOutcome: Sendable {
    /// What ``DeputyCore/Directory/apply(_:context:)`` answered; a refusal is journaled too.
    public let result: Result<CommandResult, DirectoryError>
    /// The record's sequence: the directory's revision right after the command. ``Store/live``
    /// holds at least that revision when the commit returns.
    public let sequence: UInt64
}

/// Counts kept by a ``Store`` since it opened.
public struct StoreStatistics: Hashable, Sendable {
    /// Batches written (each one write and one fsync).
    public var batches = 0
    /// Records made durable.
    public var records = 0
    /// Snapshots written.
    public var snapshots = 0
}
