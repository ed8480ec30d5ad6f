import DeputyCore
import DeputyStore

/// A directory together with where it stands in the log: the last applied sequence (equal
/// to the directory's revision) and the chain digest there.
public struct ClusterPosition: Sendable {
    public var directory: Directory
    public var sequence: Int64
    public var digest: [UInt8]

    /// A position; the directory's revision must be `sequence`.
    init(directory: Directory, sequence: Int64, digest: [UInt8]) {
        self.directory = directory
        self.sequence = sequence
        self.digest = digest
    }

    /// The position a shared snapshot describes, after checking its bytes against its
    /// checksum and its directory's revision against its sequence.
    init(snapshot: StoredSnapshot, source: String) throws {
        guard HashChain.sha256(snapshot.body) == snapshot.sha256 else {
            throw ClusterError(.incompatible, "\(source): the snapshot's bytes do not match its SHA-256")
        }
        let directory = try PortableSnapshot.decode(snapshot.body, source: source)
        guard directory.revision == UInt64(snapshot.sequence) else {
            throw ClusterError(.incompatible, "\(source): the snapshot holds revision \(directory.revision), stored as sequence \(snapshot.sequence)")
        }
        self.init(directory: directory, sequence: snapshot.sequence, digest: snapshot.digest)
    }
}
