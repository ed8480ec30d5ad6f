import DeputyCore
import DeputyStore
import Foundation

/// A node's own copy of its position, for fast restarts and for serving while PostgreSQL
/// is away: `cluster-state` in the data directory, written atomically (0600).
///
/// The file is one header line, `deputy-cluster-state 1 <sequence> <chain digest> <sha256
/// of the rest>`, then the snapshot bytes. On start the node loads it, and once connected
/// checks the chain digest against the log before it catches up; a file the log does not
/// continue (a failover took back what it holds) is replaced by the shared snapshot.
public struct LocalClusterState: Sendable {
    static let fileName = "cluster-state"
    private static let magic = "deputy-cluster-state"
    private static let version = 1

    /// The file's path.
    public let path: String

    /// The state file in `dataDirectory`.
    public init(dataDirectory: String) {
        path = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    /// Writes `position`, replacing the previous file.
    func save(_ position: ClusterPosition, snapshot bytes: [UInt8]) throws {
        let header = "\(Self.magic) \(Self.version) \(position.sequence) \(HashChain.hex(position.digest)) \(HashChain.hex(HashChain.sha256(bytes)))\n"
        try PortableSnapshot.write(header: Array(header.utf8), bytes, to: path)
    }

    /// The saved position, `nil` when there is none; an error when the file is damaged.
    public func load() throws -> ClusterPosition? {
        guard let contents = try PortableSnapshot.read(path) else { return nil }
        guard let newline = contents.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ClusterError(.incompatible, "\(path) has no header line")
        }
        let fields = String(decoding: contents[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, fields[0] == Self.magic, fields[1] == "\(Self.version)", let sequence = Int64(fields[2]),
            let digest = HashChain.bytes(hex: fields[3]), digest.count == 32, let checksum = HashChain.bytes(hex: fields[4])
        else {
            throw ClusterError(.incompatible, "\(path) does not start with a cluster state header this program reads")
        }
        let bytes = Array(contents[(newline + 1)...])
        return try ClusterPosition(snapshot: StoredSnapshot(sequence: sequence, digest: digest, sha256: checksum, body: bytes), source: path)
    }
}

extension LocalClusterState {
    /// The file that marks a data directory as a cluster node's, holding the node's name:
    /// written before the node first serves, when its state file may be a thousand records
    /// away, and small, so that writing it costs a start nothing.
    static let markerName = "cluster-node"

    /// Marks `dataDirectory` as the data directory of the node `name` (0600, durably);
    /// nothing is written when the mark is already there.
    static func markAsNode(_ dataDirectory: String, name: String) throws {
        let path = (dataDirectory as NSString).appendingPathComponent(markerName)
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try PortableSnapshot.write(Array("\(name)\n".utf8), to: path)
    }

    /// The file that makes `dataDirectory` a cluster node's (the state file or the mark),
    /// or `nil` when it has neither.
    static func nodeFile(in dataDirectory: String) -> String? {
        [fileName, markerName].first { FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent($0)) }
    }

    /// Throws when `dataDirectory` is a cluster node's (it holds the state file or the
    /// mark): any snapshot and journal beside it are the single node's from before the
    /// cluster, and `what` (a single-node start, a check, a backup) would take them for
    /// the directory, or would make one there.
    public static func refuseSingleNodeUse(of dataDirectory: String, by what: String) throws(ClusterError) {
        guard let file = nodeFile(in: dataDirectory) else { return }
        throw ClusterError(
            .incompatible,
            "\(dataDirectory) is a cluster node's data directory (it holds \(file)), which \(what) must not use as a single node's: a node's directory is in the shared log, and any snapshot or journal beside its state is from before the cluster. Start the node with its cluster settings; to go back to one node, write the cluster's directory with deputyd cluster backup and restore it into a new data directory (docs/cluster.md)"
        )
    }

    /// Throws when `dataDirectory` holds a single node's directory (a snapshot, a journal
    /// with records, what a crash left of either) and is not a node's: a node starting
    /// there would load the shared snapshot and never read them, and any change the
    /// single node made after `cluster init` read its directory would be gone without a
    /// word.
    public static func refuseSingleNodeDirectory(_ dataDirectory: String) throws {
        guard nodeFile(in: dataDirectory) == nil else { return }
        let found = try DataDirectory.directoryFiles(at: dataDirectory)
        guard !found.isEmpty else { return }
        throw ClusterError(
            .incompatible,
            "\(dataDirectory) holds a single node's directory (\(found.joined(separator: " and "))), which a cluster node does not read: it starts from the shared snapshot, and changes made on the single node after deputyd cluster init would be lost. Start the node on a data directory of its own (holding only factor-key), and keep this one apart; if this directory already served as this node's, those files are leftovers from before the cluster: move them aside (docs/cluster.md)"
        )
    }
}
