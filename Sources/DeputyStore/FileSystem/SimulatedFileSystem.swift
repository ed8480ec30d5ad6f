import Synchronization

/// An in-memory ``StorageFileSystem`` that knows what a power cut would lose: a test seam.
///
/// Each file keeps two contents: what was written, which reads see, and what was last made
/// durable by ``sync(_:)``. Each name is likewise current or durable: creating, renaming
/// or removing a file changes only the current names until ``syncDirectory(_:)`` on its
/// directory. ``powerCut(_:)`` throws away everything that is not durable, as a machine
/// that loses power would in the worst case: file contents go back to their last synced
/// state, a rename or a new file whose directory was not synced is undone.
///
/// Faults are injected one at a time (see `SimulatedFileSystem+Faults.swift`): the next
/// write fails with `ENOSPC` or fails after some bytes (a torn write), the next fsync
/// fails with `EIO`, or power is cut after a given number of operations, after which every
/// call fails until ``restart()``.
///
/// Directories are simplified: they are created durable, and their permissions, like
/// those of files, change at once.
public final class SimulatedFileSystem: StorageFileSystem, Sendable {
    struct File {
        var content: [UInt8] = []
        var durable: [UInt8] = []
        var permissions: UInt16 = 0o600
    }

    struct Fault {
        enum Kind: Equatable {
            case write(afterBytes: Int)
            case sync
            case syncDirectory
            case rename
        }

        let kind: Kind
        let path: String?
        let errorNumber: Int32
    }

    struct State {
        var files: [Int: File] = [:]
        var nextFile = 1
        var names: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var directories: [String: UInt16] = ["/": 0o755]
        var handles: [Int32: Int] = [:]
        /// The descriptor holding each locked path's lock; a lock whose descriptor is no
        /// longer open (closed, or lost in a power cut or restart) is free.
        var locks: [String: Int32] = [:]
        var nextDescriptor: Int32 = 3
        var faults: [Fault] = []
        var scheduledCut: (afterOperations: Int, mode: PowerCutMode)?
        var isDown = false
        var statistics = SimulatedFileSystemStatistics()
    }

    let state = Mutex(State())
    let syncGate = SimulatedSyncGate()

    /// An empty file system holding only the root directory.
    public init() {}

    // MARK: - StorageFileSystem

    public func openForAppend(_ path: String, truncating: Bool) throws(StorageFileSystemError) -> StorageFileHandle {
        try mutate("open", path) { state throws(StorageFileSystemError) in
            try state.open(path, truncating: truncating)
        }
    }

    public func write(_ bytes: [UInt8], to file: StorageFileHandle) throws(StorageFileSystemError) {
        try mutate("write", file.path) { state throws(StorageFileSystemError) in
            let id = try Self.file(of: file, in: state, operation: "write")
            state.statistics.writes += 1
            if let fault = state.takeFault({ if case .write = $0 { true } else { false } }, path: file.path) {
                guard case .write(let afterBytes) = fault.kind else { preconditionFailure("matched a write fault") }
                state.files[id]!.content.append(contentsOf: bytes.prefix(afterBytes))
                throw Self.error("write", file.path, fault.errorNumber)
            }
            state.files[id]!.content.append(contentsOf: bytes)
        }
    }

    public func sync(_ file: StorageFileHandle) throws(StorageFileSystemError) {
        syncGate.pass(file.path)
        try mutate("fsync", file.path) { state throws(StorageFileSystemError) in
            let id = try Self.file(of: file, in: state, operation: "fsync")
            state.statistics.fileSyncs += 1
            if let fault = state.takeFault({ $0 == .sync }, path: file.path) {
                throw Self.error("fsync", file.path, fault.errorNumber)
            }
            state.files[id]!.durable = state.files[id]!.content
        }
    }

    public func truncate(_ file: StorageFileHandle, toLength length: Int) throws(StorageFileSystemError) {
        try mutate("ftruncate", file.path) { state throws(StorageFileSystemError) in
            let id = try Self.file(of: file, in: state, operation: "ftruncate")
            guard length >= 0 else { throw Self.error("ftruncate", file.path, ErrorNumber.invalidArgument) }
            var content = state.files[id]!.content
            if length <= content.count {
                content.removeSubrange(length...)
            } else {
                content.append(contentsOf: repeatElement(0, count: length - content.count))
            }
            state.files[id]!.content = content
        }
    }

    public func close(_ file: StorageFileHandle) {
        state.withLock { _ = $0.handles.removeValue(forKey: file.descriptor) }
    }

    public func lockExclusively(_ path: String) throws(StorageFileSystemError) -> StorageFileHandle? {
        try mutate("open", path) { state throws(StorageFileSystemError) in
            guard !state.isLocked(path) else { return nil }
            let handle = try state.open(path, truncating: false)
            state.locks[path] = handle.descriptor
            return handle
        }
    }

    public func isLocked(_ path: String) throws(StorageFileSystemError) -> Bool {
        try inspect("flock", path) { $0.isLocked(path) }
    }

    public func readFile(_ path: String) throws(StorageFileSystemError) -> [UInt8] {
        try inspect("read", path) { state throws(StorageFileSystemError) in
            guard state.directories[path] == nil else { throw Self.error("read", path, ErrorNumber.isDirectory) }
            guard let id = state.names[path] else { throw Self.error("open", path, ErrorNumber.noEntry) }
            return state.files[id]!.content
        }
    }

    public func rename(_ source: String, to destination: String) throws(StorageFileSystemError) {
        let description = "\(source) to \(destination)"
        try mutate("rename", description) { state throws(StorageFileSystemError) in
            guard let id = state.names[source] else { throw Self.error("rename", description, ErrorNumber.noEntry) }
            guard state.directories[Self.parent(of: destination)] != nil else { throw Self.error("rename", description, ErrorNumber.noEntry) }
            guard state.directories[destination] == nil else { throw Self.error("rename", description, ErrorNumber.isDirectory) }
            if let fault = state.takeFault({ $0 == .rename }, path: destination) {
                throw Self.error("rename", description, fault.errorNumber)
            }
            state.names[source] = nil
            state.names[destination] = id
        }
    }

    public func syncDirectory(_ path: String) throws(StorageFileSystemError) {
        try mutate("fsync", path) { state throws(StorageFileSystemError) in
            guard state.directories[path] != nil else { throw Self.error("open", path, ErrorNumber.noEntry) }
            state.statistics.directorySyncs += 1
            if let fault = state.takeFault({ $0 == .syncDirectory }, path: path) {
                throw Self.error("fsync", path, fault.errorNumber)
            }
            let affected = Set(state.names.keys).union(state.durableNames.keys).filter { Self.parent(of: $0) == path }
            for name in affected { state.durableNames[name] = state.names[name] }
        }
    }

    public func remove(_ path: String) throws(StorageFileSystemError) {
        try mutate("unlink", path) { state throws(StorageFileSystemError) in
            guard state.directories[path] == nil else { throw Self.error("unlink", path, ErrorNumber.isDirectory) }
            guard state.names.removeValue(forKey: path) != nil else { throw Self.error("unlink", path, ErrorNumber.noEntry) }
        }
    }

    public func listDirectory(_ path: String) throws(StorageFileSystemError) -> [String] {
        try inspect("opendir", path) { state throws(StorageFileSystemError) in
            guard state.directories[path] != nil else { throw Self.error("opendir", path, ErrorNumber.noEntry) }
            let entries = Array(state.names.keys) + state.directories.keys.filter { $0 != "/" }
            return entries.filter { Self.parent(of: $0) == path }.map { Self.lastComponent(of: $0) }.sorted()
        }
    }

    public func createDirectory(_ path: String, permissions: UInt16) throws(StorageFileSystemError) {
        try mutate("mkdir", path) { state throws(StorageFileSystemError) in
            guard state.directories[Self.parent(of: path)] != nil else { throw Self.error("mkdir", path, ErrorNumber.noEntry) }
            guard state.directories[path] == nil, state.names[path] == nil else { throw Self.error("mkdir", path, ErrorNumber.exists) }
            state.directories[path] = permissions
        }
    }

    public func info(_ path: String) throws(StorageFileSystemError) -> StorageFileInfo? {
        try inspect("stat", path) { state in
            if let permissions = state.directories[path] {
                return StorageFileInfo(kind: .directory, permissions: permissions, size: 0)
            }
            guard let id = state.names[path], let file = state.files[id] else { return nil }
            return StorageFileInfo(kind: .regularFile, permissions: file.permissions, size: file.content.count)
        }
    }

    public func setPermissions(_ path: String, _ permissions: UInt16) throws(StorageFileSystemError) {
        try mutate("chmod", path) { state throws(StorageFileSystemError) in
            if state.directories[path] != nil {
                state.directories[path] = permissions
            } else if let id = state.names[path] {
                state.files[id]!.permissions = permissions
            } else {
                throw Self.error("chmod", path, ErrorNumber.noEntry)
            }
        }
    }

    // MARK: - Plumbing

    /// Runs an operation that changes something, counts it, and cuts power after it when a
    /// cut is scheduled for this operation.
    private func mutate<T>(
        _ operation: String, _ path: String, _ body: (inout State) throws(StorageFileSystemError) -> T
    ) throws(StorageFileSystemError) -> T {
        try state.withLock { state throws(StorageFileSystemError) -> T in
            guard !state.isDown else { throw Self.error(operation, path, ErrorNumber.inputOutput) }
            state.statistics.operations += 1
            defer {
                if let cut = state.scheduledCut, state.statistics.operations >= cut.afterOperations {
                    state.scheduledCut = nil
                    state.cutPower(cut.mode)
                    state.isDown = true
                }
            }
            return try body(&state)
        }
    }

    /// Runs an operation that only reads.
    private func inspect<T>(
        _ operation: String, _ path: String, _ body: (State) throws(StorageFileSystemError) -> T
    ) throws(StorageFileSystemError) -> T {
        try state.withLock { state throws(StorageFileSystemError) -> T in
            guard !state.isDown else { throw Self.error(operation, path, ErrorNumber.inputOutput) }
            return try body(state)
        }
    }

    private static func file(of handle: StorageFileHandle, in state: State, operation: String) throws(StorageFileSystemError) -> Int {
        guard let id = state.handles[handle.descriptor], state.files[id] != nil else {
            throw error(operation, handle.path, ErrorNumber.badDescriptor)
        }
        return id
    }

    static func error(_ operation: String, _ path: String, _ number: Int32) -> StorageFileSystemError {
        StorageFileSystemError(operation: operation, path: path, errorNumber: number)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension SimulatedFileSystem.State {
    /// Opens `path` for appending, creating it when missing.
    mutating func open(_ path: String, truncating: Bool) throws(StorageFileSystemError) -> StorageFileHandle {
        guard directories[SimulatedFileSystem.parent(of: path)] != nil else { throw SimulatedFileSystem.error("open", path, ErrorNumber.noEntry) }
        guard directories[path] == nil else { throw SimulatedFileSystem.error("open", path, ErrorNumber.isDirectory) }
        let id: Int
        if let existing = names[path] {
            id = existing
            if truncating { files[id]!.content = [] }
        } else {
            id = nextFile
            nextFile += 1
            files[id] = SimulatedFileSystem.File()
            names[path] = id
        }
        let descriptor = nextDescriptor
        nextDescriptor += 1
        handles[descriptor] = id
        return StorageFileHandle(descriptor: descriptor, path: path)
    }

    /// Whether an open descriptor holds the lock of `path`.
    func isLocked(_ path: String) -> Bool {
        locks[path].map { handles[$0] != nil } ?? false
    }

    /// Removes and returns the first scheduled fault of a kind that applies to `path`.
    mutating func takeFault(_ matches: (SimulatedFileSystem.Fault.Kind) -> Bool, path: String) -> SimulatedFileSystem.Fault? {
        guard let index = faults.firstIndex(where: { matches($0.kind) && ($0.path == nil || $0.path == path) }) else { return nil }
        return faults.remove(at: index)
    }

    /// Throws away everything that is not durable; every open descriptor becomes invalid.
    mutating func cutPower(_ mode: SimulatedFileSystem.PowerCutMode) {
        names = durableNames
        handles = [:]
        var random = mode.seed.map { SimulatedRandom(seed: $0) }
        let reachable = Set(names.values)
        for id in files.keys {
            guard reachable.contains(id) else {
                files[id] = nil
                continue
            }
            var file = files[id]!
            let unsynced = file.content.count - file.durable.count
            switch mode {
            case .dropUnsynced:
                file.content = file.durable
            case .keepUnsyncedPrefix:
                // Only an append can leave a prefix of itself behind; anything else reverts.
                if unsynced > 0, file.content.starts(with: file.durable), var generator = random {
                    let kept = Int(generator.next() % UInt64(unsynced + 1))
                    random = generator
                    file.content.removeSubrange((file.durable.count + kept)...)
                } else {
                    file.content = file.durable
                }
            case .zeroUnsynced:
                // The file keeps its new size but the data never reached the disk, as on a
                // file system that extends the size before writing the blocks.
                if unsynced > 0, file.content.starts(with: file.durable) {
                    file.content = file.durable + [UInt8](repeating: 0, count: unsynced)
                } else {
                    file.content = file.durable
                }
            }
            file.durable = file.content
            files[id] = file
        }
    }
}

/// A small deterministic generator (SplitMix64) for reproducible power cuts.
struct SimulatedRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
