/// One reader's hold on the current version of a ``LiveDirectory``, kept from one request
/// to the next until another version is published.
///
/// Taking the version from the ``LiveDirectory`` takes its lock and counts a reference on
/// the version: memory that every thread answering writes to. A connection answering
/// lookups one after another (a mail server's socketmap or policy connection) takes it
/// once per published version instead, and otherwise reads one shared word,
/// ``LiveDirectory/generation``, that only a publication writes.
public struct DirectoryReader: Sendable {
    /// The directory read.
    public let live: LiveDirectory
    private var generation: UInt64?
    private var version: DirectoryVersion?

    /// A reader of `live` that has read nothing yet.
    public init(_ live: LiveDirectory) {
        self.live = live
    }

    /// The version current now: the one read before while no other has been published.
    public mutating func current() -> DirectoryVersion {
        // The generation first: a version published after this read moves it again, so
        // the next call takes that version; one published before is the version read below.
        let generation = live.generation
        if let version, generation == self.generation { return version }
        let fresh = live.version
        self.generation = generation
        version = fresh
        return fresh
    }
}
