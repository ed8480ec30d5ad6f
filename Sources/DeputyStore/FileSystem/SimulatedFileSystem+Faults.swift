import Synchronization

extension SimulatedFileSystem {
    /// An error a simulated operation fails with.
    public enum Failure: Sendable, Hashable {
        /// `ENOSPC`: the disk is full.
        case noSpace
        /// `EIO`: the device failed.
        case inputOutput

        var errorNumber: Int32 {
            switch self {
            case .noSpace: ErrorNumber.noSpace
            case .inputOutput: ErrorNumber.inputOutput
            }
        }
    }

    /// What a power cut does to bytes written but not synced.
    public enum PowerCutMode: Sendable, Hashable {
        /// They are lost: every file goes back to its last synced content.
        case dropUnsynced
        /// A file that was appended to keeps a pseudo-random prefix of the unsynced bytes,
        /// as when part of a write reached the disk.
        case keepUnsyncedPrefix(seed: UInt64)
        /// A file that was appended to keeps its new size, but the unsynced bytes read as
        /// zeros, as when the size reached the disk before the data.
        case zeroUnsynced

        var seed: UInt64? {
            if case .keepUnsyncedPrefix(let seed) = self { return seed }
            return nil
        }
    }

    // MARK: - Faults

    /// Makes the next write (to `path`, or to any file) write only its first `afterBytes`
    /// bytes and then fail with `failure`.
    public func failNextWrite(to path: String? = nil, with failure: Failure = .noSpace, afterBytes: Int = 0) {
        state.withLock { $0.faults.append(Fault(kind: .write(afterBytes: afterBytes), path: path, errorNumber: failure.errorNumber)) }
    }

    /// Makes the next fsync of a file (at `path`, or any) fail with `failure`; nothing
    /// becomes durable.
    public func failNextSync(of path: String? = nil, with failure: Failure = .inputOutput) {
        state.withLock { $0.faults.append(Fault(kind: .sync, path: path, errorNumber: failure.errorNumber)) }
    }

    /// Makes the next fsync of a directory (at `path`, or any) fail with `failure`.
    public func failNextDirectorySync(of path: String? = nil, with failure: Failure = .inputOutput) {
        state.withLock { $0.faults.append(Fault(kind: .syncDirectory, path: path, errorNumber: failure.errorNumber)) }
    }

    /// Makes the next rename onto `path` (or any) fail with `failure`.
    public func failNextRename(to path: String? = nil, with failure: Failure = .inputOutput) {
        state.withLock { $0.faults.append(Fault(kind: .rename, path: path, errorNumber: failure.errorNumber)) }
    }

    /// Makes every file fsync from now on (of `path` only, when given) wait until
    /// ``openSyncGate()``: a batch or a snapshot then stays in flight while a test lets
    /// further commits queue behind it or go on beside it.
    public func closeSyncGate(for path: String? = nil) {
        syncGate.close(for: path)
    }

    /// Lets every waiting and later file fsync through.
    public func openSyncGate() {
        syncGate.open()
    }

    /// Lets one fsync through the closed gate (one waiting, or the next to come); the gate
    /// stays closed for the others.
    public func letOneSyncThrough() {
        syncGate.letOneThrough()
    }

    /// How many file fsyncs are waiting at the closed gate.
    public var syncsWaitingAtGate: Int {
        syncGate.waitingCount
    }

    // MARK: - Power

    /// Cuts power now: everything not durable is lost and every open descriptor becomes
    /// invalid. The file system keeps working, as after a reboot.
    public func powerCut(_ mode: PowerCutMode = .dropUnsynced) {
        state.withLock { $0.cutPower(mode) }
    }

    /// Cuts power right after the operation that brings the count of changing operations
    /// (open, write, fsync, truncate, rename, remove, mkdir, chmod) to `count`; from then
    /// on every call fails with `EIO` until ``restart()``, as for a process that died there.
    public func cutPower(afterOperations count: Int, mode: PowerCutMode = .dropUnsynced) {
        state.withLock { state in
            if state.statistics.operations >= count {
                state.cutPower(mode)
                state.isDown = true
            } else {
                state.scheduledCut = (count, mode)
            }
        }
    }

    /// Brings the file system back after a scheduled power cut, with no faults pending.
    public func restart() {
        state.withLock { state in
            state.isDown = false
            state.faults = []
            state.scheduledCut = nil
            state.handles = [:]
        }
    }

    /// Whether a scheduled power cut has happened and ``restart()`` has not been called.
    public var isDown: Bool {
        state.withLock { $0.isDown }
    }

    // MARK: - Inspection

    /// Counts of what has been done so far.
    public var statistics: SimulatedFileSystemStatistics {
        state.withLock { $0.statistics }
    }

    /// The current content of the file at `path` (what reads see), or `nil`.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { state in state.names[path].flatMap { state.files[$0]?.content } }
    }

    /// The content of the file at `path` that would survive a power cut, or `nil` when the
    /// file would not.
    public func durableContents(of path: String) -> [UInt8]? {
        state.withLock { state in state.durableNames[path].flatMap { state.files[$0]?.durable } }
    }

    /// Replaces the file at `path` with `bytes`, durably, creating it (mode 0600) when
    /// missing: for tests that prepare or damage files.
    public func setContents(of path: String, to bytes: [UInt8]) {
        state.withLock { state in
            let id = state.names[path] ?? {
                defer { state.nextFile += 1 }
                return state.nextFile
            }()
            var file = state.files[id] ?? File()
            file.content = bytes
            file.durable = bytes
            state.files[id] = file
            state.names[path] = id
            state.durableNames[path] = id
        }
    }
}

/// Counts kept by a ``SimulatedFileSystem``.
public struct SimulatedFileSystemStatistics: Sendable, Hashable {
    /// Operations that change something, the count ``SimulatedFileSystem/cutPower(afterOperations:mode:)`` uses.
    public var operations = 0
    /// Writes attempted.
    public var writes = 0
    /// File fsyncs attempted.
    public var fileSyncs = 0
    /// Directory fsyncs attempted.
    public var directorySyncs = 0
}
