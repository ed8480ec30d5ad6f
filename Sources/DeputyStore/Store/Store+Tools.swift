import DeputyCore
import Foundation

extension Store {
    /// Checks the data directory at `path` as recovery would, without starting a store and
    /// without changing any file: permissions, the snapshot, the journal's records (a torn
    /// tail is reported, not cut), the replay, and the directory's invariants.
    /// For `deputyd check --data DIR`.
    ///
    /// Safe beside a running daemon (``StoreCheckReport/inUseBy`` names it): the files are
    /// read between two equal reads of the snapshot, as
    /// ``backup(dataDirectory:to:fileSystem:now:attempts:)`` reads them, so a snapshot
    /// written meanwhile is never mistaken for damage.
    public static func check(path: String, fileSystem: any StorageFileSystem = PosixFileSystem(), attempts: Int = 20) -> StoreCheckReport {
        var report = StoreCheckReport()
        let dataDirectory = DataDirectory(path: path)
        do {
            report.problems = try dataDirectory.permissionProblems(fileSystem: fileSystem)
            report.inUseBy = try DataDirectoryLock.holder(of: path, fileSystem: fileSystem)
        } catch {
            report.problems.append(error.message)
            return report
        }
        do {
            let recovered = try betweenEqualSnapshots(dataDirectory, fileSystem: fileSystem, attempts: attempts) { _ throws(StoreError) in
                report.journalBytes = (try? fileSystem.info(dataDirectory.journalPath))??.size ?? 0
                return try readOnly(dataDirectory, fileSystem: fileSystem)
            }
            report.recovery = recovered.report
            report.counts = DirectoryCounts(recovered.directory)
        } catch {
            if error.code == .inconsistent {
                report.consistencyProblems.append(error.message)
            } else {
                report.problems.append(error.message)
            }
        }
        return report
    }

    /// Recovers the directory at `path` without changing any file (a torn tail is left out,
    /// not cut) and exports it to `destination` in the snapshot format.
    /// For `deputyd export` while the daemon is stopped.
    @discardableResult
    public static func export(
        dataDirectory path: String, to destination: String, fileSystem: any StorageFileSystem = PosixFileSystem(),
        now: Date = Date()
    ) throws(StoreError) -> ExportReport {
        let dataDirectory = try DataDirectory.existing(path: path, fileSystem: fileSystem)
        let recovered = try readOnly(dataDirectory, fileSystem: fileSystem)
        let bytes = try SnapshotFile.write(recovered.directory, savedAt: now, to: destination, fileSystem: fileSystem)
        return ExportReport(path: destination, sequence: recovered.directory.revision, bytes: bytes, counts: DirectoryCounts(recovered.directory))
    }

    /// A consistent point-in-time copy of the data directory at `path`, whether or not a
    /// daemon is running on it, written to `destination` in the snapshot format (0600,
    /// replaced atomically). For `deputyd backup`.
    ///
    /// Every change acknowledged before the call began is in the copy: a change is
    /// acknowledged only once its journal record is synced, and the journal is read after
    /// the call begins. The snapshot is read before and after the journal; the running
    /// daemon replaces the snapshot before it cuts the journal, so an unchanged snapshot
    /// means the journal read belongs to it. If a snapshot was written meanwhile, the copy
    /// starts again (at most `attempts` times).
    @discardableResult
    public static func backup(
        dataDirectory path: String, to destination: String, fileSystem: any StorageFileSystem = PosixFileSystem(),
        now: Date = Date(), attempts: Int = 20
    ) throws(StoreError) -> ExportReport {
        let dataDirectory = try DataDirectory.existing(path: path, fileSystem: fileSystem)
        let recovered = try betweenEqualSnapshots(dataDirectory, fileSystem: fileSystem, attempts: attempts) { snapshot throws(StoreError) in
            let journal = try readIfPresent(dataDirectory.journalPath, fileSystem: fileSystem)
            // The pair, recovered as on start, on a simulated disk: the torn tail of a
            // batch being written is left out, as recovery would.
            let copy = SimulatedFileSystem()
            do throws(StorageFileSystemError) {
                try copy.createDirectory("/data", permissions: 0o700)
                for (name, bytes) in [(DataDirectory.snapshotName, snapshot), (DataDirectory.journalName, journal)] {
                    guard let bytes else { continue }
                    let file = try copy.openForAppend("/data/\(name)", truncating: true)
                    try copy.write(bytes, to: file)
                    copy.close(file)
                    try copy.setPermissions("/data/\(name)", 0o600)
                }
            } catch {
                throw StoreError.storage("cannot stage the backup in memory", error)
            }
            return try readOnly(DataDirectory(path: "/data"), fileSystem: copy)
        }
        let bytes = try SnapshotFile.write(recovered.directory, savedAt: now, to: destination, fileSystem: fileSystem)
        return ExportReport(path: destination, sequence: recovered.directory.revision, bytes: bytes, counts: DirectoryCounts(recovered.directory))
    }

    /// Runs `read` (given the snapshot's bytes, `nil` when there is none) between two reads
    /// of the snapshot, until both reads agree, at most `attempts` times. A running daemon
    /// replaces the snapshot before it cuts the journal, so an unchanged snapshot means that
    /// what `read` saw of the journal belongs to it.
    private static func betweenEqualSnapshots<T>(
        _ dataDirectory: DataDirectory, fileSystem: any StorageFileSystem, attempts: Int,
        _ read: ([UInt8]?) throws(StoreError) -> T
    ) throws(StoreError) -> T {
        for _ in 0..<attempts {
            let before = try readIfPresent(dataDirectory.snapshotPath, fileSystem: fileSystem)
            // A pair torn by a snapshot can look damaged: that counts only if the snapshot
            // stayed the same.
            let result = Result { () throws(StoreError) -> T in try read(before) }
            let after = try readIfPresent(dataDirectory.snapshotPath, fileSystem: fileSystem)
            if before == after { return try result.get() }
        }
        throw StoreError(
            .busy, "snapshots were written faster than the data directory could be read (\(attempts) tries); try again", path: dataDirectory.path
        )
    }

    private static func readIfPresent(_ path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> [UInt8]? {
        do {
            guard try fileSystem.info(path) != nil else { return nil }
            return try fileSystem.readFile(path)
        } catch {
            throw StoreError.storage("cannot read \(path)", error)
        }
    }

    /// Validates the snapshot-format file at `source` (format, parsing, the directory's
    /// invariants) and, unless `dryRun`, makes it the data directory's snapshot with an
    /// empty journal. For `deputyd import`.
    ///
    /// Refuses a data directory that another process holds (a running daemon), and one
    /// that already holds a directory: one with a snapshot, a journal that is not empty, or
    /// a temporary file. Other files (the server's TLS files) may be there.
    @discardableResult
    public static func importSnapshot(
        from source: String, into path: String, dryRun: Bool, fileSystem: any StorageFileSystem = PosixFileSystem()
    ) throws(StoreError) -> ImportReport {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readFile(source)
        } catch {
            throw StoreError.storage("cannot read the file to import", error)
        }
        let loaded = try SnapshotFile.decode(bytes, path: source, code: .invalidImport)
        let problems = loaded.directory.consistencyProblems()
        guard problems.isEmpty else {
            throw StoreError(.invalidImport, "\(source) breaks the directory's invariants: \(problems.joined(separator: "; "))", path: source)
        }
        let report = ImportReport(sequence: loaded.sequence, counts: DirectoryCounts(loaded.directory), dryRun: dryRun)
        guard !dryRun else { return report }

        // Held until the snapshot is written, so that no daemon starts on a half-restored
        // directory, and none is running on it now.
        let lock = try DataDirectoryLock.acquire(path: path, fileSystem: fileSystem)
        defer { lock.release() }
        let dataDirectory = try DataDirectory.open(path: path, fileSystem: fileSystem)
        guard try DataDirectory.directoryFiles(at: dataDirectory.path, fileSystem: fileSystem).isEmpty else {
            throw StoreError(
                .notEmpty,
                "\(dataDirectory.path) already holds a directory; import only into an empty data directory (export the current one first if it matters)",
                path: dataDirectory.path
            )
        }
        // The snapshot first: a crash before the journal exists recovers from the
        // snapshot alone, and an empty journal is created when the store opens.
        try SnapshotFile.write(loaded.directory, savedAt: loaded.savedAt, to: dataDirectory.snapshotPath, fileSystem: fileSystem)
        return report
    }

    /// Recovery without repairs, for the tools.
    private static func readOnly(_ dataDirectory: DataDirectory, fileSystem: any StorageFileSystem) throws(StoreError) -> Recovery.Recovered {
        try Recovery.read(dataDirectory, fileSystem: fileSystem)
    }
}
