import DeputyServer
import DeputyCore
import DeputyStore
import Foundation
import Logging
import ServiceLifecycle

/// Keeps Dovecot's global ACL file (``DovecotACLFile``) in step with the directory: written
/// once before the daemon serves anyone, then again within a fraction of a second of every
/// change of the directory and whenever a delegation in it expires.
///
/// The file is replaced by a rename, so Dovecot reads either the old or the new file, never
/// half of one; it is mode 0640, so the group of the daemon (which Dovecot's mail processes
/// join with `mail_access_groups`) can read it. Nothing is written when the text is the same.
///
/// The file holds every delegation, with each group delegate's members one by one: on a
/// large directory it takes a second or more to make (1.3 s for 200,000 delegations, 80 MB), so it is
/// made and written on a thread of its own, not on the cooperative pool that the mail
/// listeners' conversations run on, and after each rewrite the writer rests as long as the
/// rewrite took before it makes the next: at most half of a core, however fast changes come,
/// and a change reaches the file within about three rewrites' time (the one under way when
/// it came, the rest, and its own).
public actor DovecotACLWriter: Service {
    private let path: String
    private let prefix: String
    private let directory: LiveDirectory
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private var written: String?
    private var nextExpiry: Date?
    private var skippedLogged: [String] = []
    private let queue = StorageIOQueue(label: "deputy.dovecot-acl")
    /// No rewrite starts before this: the last one's time again after it ended.
    private var restUntil = ContinuousClock.now
    /// The directory's generation the file was last made from; `nil` before the first
    /// update, and after one that failed.
    private var madeFrom: UInt64?

    /// How often the writer looks for a new version of the directory.
    static let pollInterval: Duration = .milliseconds(100)

    /// Creates a writer of the file at `path` for a shared namespace whose prefix is `prefix`
    /// followed by the owner's login.
    public init(path: String, prefix: String, directory: LiveDirectory, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.path = path
        self.prefix = prefix
        self.directory = directory
        self.clock = clock
        self.logger = logger
    }

    /// Writes the file for the current directory if its text changed; returns whether it wrote.
    /// Throws when the file can't be written.
    @discardableResult
    public func update() async throws -> Bool {
        let started = ContinuousClock.now
        defer { restUntil = ContinuousClock.now + (ContinuousClock.now - started) }
        let now = clock()
        // The generation first: a change published after it is seen as a new one.
        let generation = directory.generation
        madeFrom = nil
        let version = directory.directory
        let prefix = prefix
        let contents = await queue.run { DovecotACLFile.contents(of: version, at: now, prefix: prefix) }
        nextExpiry = contents.nextExpiry
        if contents.skipped != skippedLogged {
            skippedLogged = contents.skipped
            if !contents.skipped.isEmpty {
                logger.warning(
                    "delegations left out of the Dovecot ACL file: these logins hold a character Dovecot reads as a wildcard or separator",
                    metadata: ["logins": "\(contents.skipped.joined(separator: ","))"]
                )
            }
        }
        guard contents.text != written else {
            madeFrom = generation
            return false
        }
        let path = path
        if written == nil { try Self.requireOwnFile(at: path) }
        try await queue.run { () throws(StorageFileSystemError) in try PublishedFile.write(contents.text, to: path) }
        written = contents.text
        madeFrom = generation
        logger.debug("dovecot acl file written", metadata: ["path": "\(path)"])
        return true
    }

    /// Refuses to replace a file at `path` that holds something else than a file this
    /// writer made: `dovecot-acl` pointed by mistake at a hand-kept Dovecot ACL file would
    /// otherwise lose it. An empty file, or none, is fine.
    static func requireOwnFile(at path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let own = Data(DovecotACLFile.firstLine.utf8)
        let start = (try? handle.read(upToCount: own.count)) ?? Data()
        guard start.isEmpty || start == own else {
            throw ConfigurationError("\(path) was not written by deputyd, which replaces its ACL file whole; move that file away, or set dovecot-acl to another path")
        }
    }

    public func run() async throws {
        // The daemon writes the file before it serves anyone; made already, it is not
        // made again for the same directory.
        if madeFrom == nil { try await update() }
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: Self.pollInterval)
            // A change during the rest is picked up once it is over.
            guard ContinuousClock.now >= restUntil else { continue }
            let expired = nextExpiry.map { clock() >= $0 } ?? false
            guard directory.generation != madeFrom || expired else { continue }
            do {
                try await update()
            } catch {
                // Dovecot keeps the last file, which may still grant what was just taken
                // away: loud, and tried again at the next poll (`madeFrom` is nil).
                logger.error("the Dovecot ACL file could not be written", metadata: ["path": "\(path)", "error": "\(error)"])
                written = nil
            }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// Whether the current task is cancelled or its service group is shutting down.
    static var isCancelledOrShuttingDown: Bool {
        isCancelled || Task.isShuttingDownGracefully
    }
}
