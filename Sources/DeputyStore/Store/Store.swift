import DeputyCore
import Foundation
import Logging

/// The durable directory: the one writer that journals every change before it counts.
///
/// Once ``commit(_:context:)`` returns, the command's record is fsynced in the journal and
/// survives a crash of the process or the machine. Readers use ``live`` (or
/// ``directory``), which changes only after a batch of records is durable, so nobody ever
/// sees a change that a crash could take back.
///
/// The store is an actor because everything it guards (the speculative directory, the
/// queue of records waiting for the disk, the journal's handle and length) is changed only
/// in its own methods, one at a time, and because an actor suspends at each `await`: while
/// one batch is being written and fsynced, on a thread of its own, further commits run on
/// the actor, apply their command, and queue. The next batch takes the whole queue, so
/// concurrent commits share one fsync (group commit). Blocking file calls never run on the
/// actor or the cooperative pool; see ``StorageIOQueue``.
public actor Store {
    /// The published, durable directory, for readers; they never wait for a write.
    public nonisolated let live: LiveDirectory
    /// The data directory.
    public nonisolated let dataDirectory: DataDirectory
    /// What recovery found and repaired when the store opened.
    public nonisolated let recovery: RecoveryReport
    /// The data directory's lock, held from before the store read anything until it closes.
    nonisolated let lock: DataDirectoryLock

    let fileSystem: any StorageFileSystem
    let configuration: StoreConfiguration
    let logger: Logger
    /// Journal writes, fsyncs and cuts, in order.
    let journalQueue = StorageIOQueue(label: "deputy.store.journal")
    /// Snapshot encoding and writing, beside the journal so commits go on meanwhile.
    let snapshotQueue = StorageIOQueue(label: "deputy.store.snapshot")
    let coder = JournalRecordCoder()

    // MARK: State

    enum Phase {
        case open
        /// A write could not be undone or an fsync failed: the journal is no longer trusted.
        case failed(reason: String)
        case closing
        case closed
    }

    var phase = Phase.open
    /// Whether ``close()`` has begun; a failed store keeps its phase while it closes.
    var closeBegan = false
    /// The directory with every prepared command applied, durable or not yet.
    var tip: Directory
    /// The directory as of the last durable record; what ``live`` holds.
    var published: Directory
    var journalHandle: StorageFileHandle
    /// The journal's length up to the end of its last durable record.
    var journalLength: Int

    /// Prepared commits waiting for the next batch, in sequence order.
    var pending: [PendingCommit] = []
    /// Whether some task holds the journal: a batch leader, a journal cut, or close.
    var journalBusy = false
    /// Tasks waiting to hold the journal for a cut or close; served before the next batch.
    var journalWaiters: [CheckedContinuation<Void, Never>] = []
    var snapshotRunning = false
    var snapshotWaiters: [CheckedContinuation<Void, Never>] = []
    /// What a snapshot in progress must carry into the new journal: the batches made
    /// durable since it took its copy of the directory.
    var carryOver: CarryOver?

    var recordsSinceSnapshot: Int
    var lastSnapshotAt: Date
    var statistics = StoreStatistics()

    init(
        dataDirectory: DataDirectory, lock: DataDirectoryLock, recovered: Recovery.Recovered, journalHandle: StorageFileHandle,
        fileSystem: any StorageFileSystem, configuration: StoreConfiguration, logger: Logger
    ) {
        self.dataDirectory = dataDirectory
        self.lock = lock
        self.recovery = recovered.report
        self.fileSystem = fileSystem
        self.configuration = configuration
        self.logger = logger
        self.live = LiveDirectory(recovered.directory)
        self.tip = recovered.directory
        self.published = recovered.directory
        self.journalHandle = journalHandle
        self.journalLength = recovered.journalLength
        self.recordsSinceSnapshot = recovered.report.journalRecords
        self.lastSnapshotAt = recovered.report.snapshotSavedAt ?? configuration.now()
    }

    // MARK: - Opening

    /// Opens the data directory at `path` (creating it when missing), recovers the
    /// directory from its snapshot and journal, and starts accepting commits.
    ///
    /// First of all it takes the data directory's lock (or takes over `lock`, taken
    /// earlier by the caller), and holds it until ``close()``: another process holding it
    /// is refused before anything is read or written.
    ///
    /// Refuses a data directory open to group or others, a snapshot that does not parse, a
    /// journal damaged before its end or with missing records, and a recovered directory
    /// that breaks an invariant, each with an error that names the file (and byte offset)
    /// and changes nothing. A torn last write is cut off, with a warning logged and kept in
    /// ``recovery``, before anything is appended.
    public static func open(
        path: String, fileSystem: any StorageFileSystem = PosixFileSystem(),
        configuration: StoreConfiguration = StoreConfiguration(), logger: Logger = Logger(label: "deputy.store"),
        lock: DataDirectoryLock? = nil
    ) async throws(StoreError) -> Store {
        let opened = try await StorageIOQueue(label: "deputy.store.recovery").run { () throws(StoreError) -> (DataDirectoryLock, DataDirectory, Recovery.Recovered, StorageFileHandle) in
            let held: DataDirectoryLock
            if let lock { held = lock } else { held = try DataDirectoryLock.acquire(path: path, fileSystem: fileSystem) }
            let dataDirectory = try DataDirectory.existing(path: held.path, fileSystem: fileSystem)
            let recovered = try Recovery.read(dataDirectory, fileSystem: fileSystem)
            try Recovery.repair(recovered, in: dataDirectory, fileSystem: fileSystem)
            let handle = try openJournal(dataDirectory, fileSystem: fileSystem)
            FreedMemory.release()
            return (held, dataDirectory, recovered, handle)
        }
        let (held, dataDirectory, recovered, handle) = opened
        for warning in recovered.report.warnings {
            logger.warning("\(warning); repaired", metadata: ["store.path": "\(dataDirectory.path)"])
        }
        logger.info(
            "store opened",
            metadata: [
                "store.path": "\(dataDirectory.path)",
                "store.snapshot.sequence": "\(recovered.report.snapshotSequence.map(String.init) ?? "none")",
                "store.journal.replayed": "\(recovered.report.replayedRecords)",
                "store.sequence": "\(recovered.report.lastSequence)",
            ]
        )
        return Store(
            dataDirectory: dataDirectory, lock: held, recovered: recovered, journalHandle: handle,
            fileSystem: fileSystem, configuration: configuration, logger: logger
        )
    }

    /// Opens the journal for appending; its name is made durable before any record can be
    /// acknowledged in it. Also when the journal was already there: an earlier process may
    /// have died after creating it, or renaming a new one into place, but before syncing
    /// the directory, and a power cut would then take the journal, with every record
    /// acknowledged in it since.
    private static func openJournal(_ dataDirectory: DataDirectory, fileSystem: any StorageFileSystem) throws(StoreError) -> StorageFileHandle {
        do throws(StorageFileSystemError) {
            let handle = try fileSystem.openForAppend(dataDirectory.journalPath, truncating: false)
            do throws(StorageFileSystemError) {
                try fileSystem.sync(handle)
                try fileSystem.syncDirectory(dataDirectory.path)
            } catch {
                fileSystem.close(handle)
                throw error
            }
            return handle
        } catch {
            throw StoreError.storage("cannot open the journal", error)
        }
    }

    // MARK: - Reading

    /// The published directory, without waiting for any write.
    public nonisolated var directory: Directory {
        live.directory
    }

    /// Whether the store has stopped accepting changes after a storage failure.
    public var isFailed: Bool {
        if case .failed = phase { return true }
        return false
    }

    /// When the last snapshot was written (or, before any, the recovered one was).
    public var lastSnapshotTime: Date { lastSnapshotAt }

    /// Commits applied and waiting for the batch after the one being written.
    public var queuedCommits: Int {
        pending.count
    }

    /// Counts of batches, records and snapshots written since the store opened.
    public var currentStatistics: StoreStatistics {
        statistics
    }

    /// Throws unless commits and snapshots are accepted.
    func requireOpen() throws(StoreError) {
        if let refusal { throw refusal }
    }

    /// The error a change gets in the current phase; `nil` while open.
    var refusal: StoreError? {
        switch phase {
        case .open:
            nil
        case .failed(let reason):
            StoreError(
                .storage,
                "the store stopped accepting changes after a storage failure (\(reason)); restart to recover from the journal",
                path: dataDirectory.journalPath
            )
        case .closing, .closed:
            StoreError(.closed, "the store is closed")
        }
    }

    /// Stops accepting changes until a restart; logged once, here.
    func enterFailedState(_ reason: String) {
        if case .failed = phase { return }
        phase = .failed(reason: reason)
        logger.error("store stopped accepting changes", metadata: ["store.path": "\(dataDirectory.path)", "store.reason": "\(reason)"])
    }
}

/// A command applied to the speculative directory, waiting for its record to be durable.
struct PendingCommit {
    let sequence: UInt64
    let body: [UInt8]
    let result: Result<CommandResult, DirectoryError>
    /// The caller, suspended until its record is durable or it must lead the next batch;
    /// `nil` for the task that writes the batch itself.
    var waiter: CheckedContinuation<BatchTurn, Never>?
}

/// Why a suspended commit resumes.
enum BatchTurn {
    /// Its batch is done, one way or the other.
    case finished(Result<CommitOutcome, StoreError>)
    /// It is first in the queue: it writes the next batch.
    case lead
}

/// Durable batches written while a snapshot was being taken.
struct CarryOver {
    var bytes: [UInt8] = []
    var records = 0
}
