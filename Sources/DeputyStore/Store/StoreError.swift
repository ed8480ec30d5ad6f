/// Why the store could not do what was asked.
///
/// A struct around a code, so new codes don't break callers. The message is a full sentence
/// for an operator: it names the file, and the byte offset where one applies, and for
/// refusals that the operator can fix, how to fix them.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A file operation failed, or failed earlier and the store no longer accepts changes.
        public static let storage = Code(rawValue: "storage")
        /// The data directory or a file in it is open to group or others.
        public static let permissions = Code(rawValue: "permissions")
        /// The snapshot does not parse or does not make a valid directory.
        public static let corruptSnapshot = Code(rawValue: "corrupt-snapshot")
        /// The journal is damaged before its end, or its records do not follow each other.
        public static let corruptJournal = Code(rawValue: "corrupt-journal")
        /// The recovered directory breaks an invariant.
        public static let inconsistent = Code(rawValue: "inconsistent")
        /// The store is closing or closed.
        public static let closed = Code(rawValue: "closed")
        /// An import was asked into a data directory that already holds a directory.
        public static let notEmpty = Code(rawValue: "not-empty")
        /// A file to import is not a valid snapshot.
        public static let invalidImport = Code(rawValue: "invalid-import")
        /// A command cannot be journaled (too large, or it would not read back the same).
        public static let unstorable = Code(rawValue: "unstorable")
        /// A backup could not find a moment between two snapshots to read the journal.
        public static let busy = Code(rawValue: "busy")
        /// The data directory does not exist or is not a directory.
        public static let missing = Code(rawValue: "missing")
        /// Another process holds the data directory's lock.
        public static let inUse = Code(rawValue: "in-use")
        /// A write of the journal failed partway and could not be taken back: the change
        /// was not applied here, but its record may be in the journal, and a restart (which
        /// replays the journal) may bring it back. The store has failed.
        public static let outcomeUnknown = Code(rawValue: "outcome-unknown")

        public var description: String { rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence that says what went wrong.
    public let message: String
    /// The file concerned, where there is one.
    public let path: String?
    /// The byte offset in ``path`` where the problem is, where known.
    public let offset: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, path: String? = nil, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
    }

    public var description: String { "\(code): \(message)" }

    static func storage(_ message: String, _ underlying: StorageFileSystemError) -> StoreError {
        StoreError(.storage, "\(message): \(underlying)", path: underlying.path)
    }

    static func outcomeUnknown(_ message: String, _ underlying: StorageFileSystemError) -> StoreError {
        StoreError(.outcomeUnknown, "\(message): \(underlying)", path: underlying.path)
    }

    static func corruptJournal(path: String, offset: Int, _ reason: String) -> StoreError {
        StoreError(.corruptJournal, "\(path) at byte \(offset): \(reason); recovery stopped and changed nothing", path: path, offset: offset)
    }

    static func corruptSnapshot(path: String, offset: Int?, _ reason: String) -> StoreError {
        let location = offset.map { "\(path) at byte \($0)" } ?? path
        return StoreError(.corruptSnapshot, "\(location): \(reason); recovery stopped and changed nothing", path: path, offset: offset)
    }
}
