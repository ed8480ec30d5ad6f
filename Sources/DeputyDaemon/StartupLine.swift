import DeputyCluster
import DeputyCore
import DeputyServer
import DeputyStore
import Foundation

/// The line the daemon logs once it listens: its version, its data directory, what it
/// loaded from it, and every address it listens on.
///
/// ```
/// deputyd 0.1.0 started; data directory /var/lib/deputy: loaded 3 users, 1 group, ...
/// at sequence 17 (snapshot at 12, 5 journal records replayed); listening on
/// 127.0.0.1:7636 (TLS), 127.0.0.1:7635 (plaintext)
/// ```
struct StartupLine: CustomStringConvertible {
    /// What a restart found in the data directory.
    struct Loaded {
        let counts: DirectoryCounts
        /// Where the directory came from and at which revision.
        let origin: String

        init(_ store: Store) {
            counts = DirectoryCounts(store.directory)
            let recovery = store.recovery
            let replayed = recovery.replayedRecords
            let snapshot = recovery.snapshotSequence.map { "snapshot at \($0), " } ?? "no snapshot, "
            origin = "at sequence \(recovery.lastSequence) (\(snapshot)\(replayed) journal record\(replayed == 1 ? "" : "s") replayed)"
        }

        /// A cluster node: the shared log's sequence it starts from, and whether that came
        /// from its local state file or from the newest shared snapshot.
        init(_ node: ClusterNode) {
            let directory = node.live.directory
            counts = DirectoryCounts(directory)
            origin = "at sequence \(directory.revision) of the shared log (from \(node.startedFromLocalState ? "the local state file" : "the shared snapshot"))"
        }
    }

    let settings: DaemonSettings
    /// The daemon's own listeners, as bound (port 0 is the real port here).
    let listeners: [DeputyServer.BoundListener]
    /// The metrics listener, as bound.
    let metrics: ListenAddress?
    /// `nil` on the first start, which created the organisation.
    let loaded: Loaded?

    var description: String {
        let directory = URL(fileURLWithPath: settings.data).standardizedFileURL.path
        var text = "deputyd \(DeputyVersion.current) started; data directory \(directory): "
        if let loaded {
            text += "loaded \(loaded.counts) \(loaded.origin)"
        } else {
            text += "new, with the organisation \(FirstStart.organization)"
        }
        var addresses = listeners.map { "\($0.address) (\($0.tls ? "TLS" : "plaintext"))" }
        addresses += settings.mail.listeners.map { "\($0.address) (\($0.kind))" }
        if let metrics { addresses.append("\(metrics) (metrics and health)") }
        return text + "; listening on " + addresses.joined(separator: ", ")
    }
}
