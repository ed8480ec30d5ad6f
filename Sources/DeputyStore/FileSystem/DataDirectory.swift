/// The directory that holds one organisation's files, and the checks made before using it.
///
/// Layout (all files mode 0600, the directory 0700):
/// - `snapshot.json`: the directory as of one journal sequence;
/// - `journal.log`: the records committed since (and possibly some before) that sequence;
/// - `snapshot.json.tmp`, `journal.log.tmp`: only while one of them is being replaced;
/// - `deputyd.lock`: the exclusive lock of the one process using the directory, holding
///   its process id (``DataDirectoryLock``);
/// - files the server keeps there (its TLS certificate and key, the initial password).
///
/// The directory holds password hashes and the server's private key, so the store refuses
/// to use it while it or any regular file in it is open to group or others.
public struct DataDirectory: Hashable, Sendable {
    /// The name of the snapshot file.
    public static let snapshotName = "snapshot.json"
    /// The name of the journal file.
    public static let journalName = "journal.log"

    /// The directory's path, without a trailing slash.
    public let path: String

    /// The snapshot's path.
    public var snapshotPath: String { StoragePath.join(path, Self.snapshotName) }
    /// The journal's path.
    public var journalPath: String { StoragePath.join(path, Self.journalName) }
    /// The temporary files a crash can leave behind.
    public var temporaryPaths: [String] {
        [AtomicReplace.temporaryPath(for: snapshotPath), AtomicReplace.temporaryPath(for: journalPath)]
    }

    init(path: String) {
        self.path = StoragePath.normalized(path)
    }

    /// Opens the data directory at `path`, creating it (mode 0700) when missing, and
    /// refuses it when it or a regular file in it is open to group or others.
    public static func open(path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> DataDirectory {
        _ = try create(path: path, fileSystem: fileSystem)
        return try existing(path: path, fileSystem: fileSystem)
    }

    /// The data directory at `path`, created (mode 0700, durably) when missing; nothing is
    /// checked or created inside it.
    static func create(path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> DataDirectory {
        let directory = DataDirectory(path: path)
        let info: StorageFileInfo?
        do {
            info = try fileSystem.info(directory.path)
            if info == nil {
                try fileSystem.createDirectory(directory.path, permissions: StorageLimits.directoryPermissions)
                try fileSystem.syncDirectory(StoragePath.parent(of: directory.path))
            }
        } catch {
            throw StoreError.storage("cannot create the data directory \(directory.path)", error)
        }
        if let info, info.kind != .directory {
            throw StoreError(.missing, "\(directory.path) is not a directory", path: directory.path)
        }
        return directory
    }

    /// The data directory at `path`, which must exist, after the permission check.
    static func existing(path: String, fileSystem: any StorageFileSystem) throws(StoreError) -> DataDirectory {
        let directory = DataDirectory(path: path)
        let problems = try directory.permissionProblems(fileSystem: fileSystem)
        guard problems.isEmpty else {
            throw StoreError(.permissions, problems.joined(separator: "\n"), path: directory.path)
        }
        return directory
    }

    /// One sentence, with the command that fixes it, per permission problem; throws when
    /// the directory is missing or unreadable.
    func permissionProblems(fileSystem: any StorageFileSystem) throws(StoreError) -> [String] {
        let info: StorageFileInfo?
        do {
            info = try fileSystem.info(path)
        } catch {
            throw StoreError.storage("cannot read the data directory \(path)", error)
        }
        guard let info else { throw StoreError(.missing, "there is no data directory at \(path)", path: path) }
        guard info.kind == .directory else { throw StoreError(.missing, "\(path) is not a directory", path: path) }
        var problems: [String] = []
        if info.permissions & StorageLimits.forbiddenPermissions != 0 {
            problems.append(
                "the data directory \(path) is open to group or others (mode \(FileMode.octal(info.permissions))); fix it with: chmod \(String(StorageLimits.directoryPermissions, radix: 8)) \(path)"
            )
        }
        do {
            for name in try fileSystem.listDirectory(path) {
                let file = StoragePath.join(path, name)
                guard let fileInfo = try fileSystem.info(file), fileInfo.kind == .regularFile else { continue }
                if fileInfo.permissions & StorageLimits.forbiddenPermissions != 0 {
                    problems.append(
                        "\(file) is readable or writable by group or others (mode \(FileMode.octal(fileInfo.permissions))); fix it with: chmod \(String(StorageLimits.filePermissions, radix: 8)) \(file)"
                    )
                }
            }
        } catch {
            throw StoreError.storage("cannot list the data directory \(path)", error)
        }
        return problems
    }

    /// The files in the data directory at `path` that make it hold a directory already: a
    /// snapshot, a journal with records in it, or a temporary file a crash left while
    /// replacing one. Empty when there is none, or no directory at `path`. A restore goes
    /// only where this is empty, and a cluster node refuses to start where it is not.
    public static func directoryFiles(at path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws(StoreError) -> [String] {
        let directory = DataDirectory(path: path)
        var found: [String] = []
        do throws(StorageFileSystemError) {
            if try fileSystem.info(directory.snapshotPath) != nil { found.append(snapshotName) }
            if try (fileSystem.info(directory.journalPath)?.size ?? 0) > 0 { found.append(journalName) }
            for temporary in directory.temporaryPaths where try fileSystem.info(temporary) != nil {
                found.append(StoragePath.lastComponent(of: temporary))
            }
        } catch {
            throw StoreError.storage("cannot inspect the data directory \(directory.path)", error)
        }
        return found
    }
}
