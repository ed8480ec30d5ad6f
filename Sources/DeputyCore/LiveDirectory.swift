import Synchronization

/// The current version of the directory, shared between one writer and many readers.
///
/// Readers take the current version (one reference, under a lock held for a pointer copy)
/// and query it for as long as they like; the writer builds the next version on its own
/// copy and publishes it. So reads never wait for a write to finish.
public final class LiveDirectory: Sendable {
    private let current: Mutex<DirectoryVersion>
    private let published = Atomic<UInt64>(0)

    /// Starts with `directory` as the current version.
    public init(_ directory: Directory) {
        current = Mutex(DirectoryVersion(directory))
    }

    /// The current version.
    public var version: DirectoryVersion {
        current.withLock { $0 }
    }

    /// The current directory.
    public var directory: Directory {
        version.directory
    }

    /// Makes `directory` the current version.
    public func publish(_ directory: Directory) {
        let version = DirectoryVersion(directory)
        current.withLock { $0 = version }
        published.add(1, ordering: .releasing)
    }

    /// How many versions have been published: a reader that keeps a version takes the
    /// current one again only when this has moved. Reading it is a load of one shared
    /// word, where taking the version writes to the lock and to the version's reference
    /// count, which every core then fights over.
    public var generation: UInt64 {
        published.load(ordering: .acquiring)
    }
}

/// One immutable version of the directory, passed around by reference.
public final class DirectoryVersion: Sendable {
    /// The directory as it was when published.
    public let directory: Directory

    init(_ directory: Directory) {
        self.directory = directory
    }
}
