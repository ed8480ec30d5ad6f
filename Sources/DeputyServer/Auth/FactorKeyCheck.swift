import DeputyCore
import Logging

/// Whether the data directory's factor key opens the second-factor secrets the directory
/// holds.
///
/// A key other than the one they were sealed with (a cluster node given a key of its own, a
/// restore without the old key) refuses every code of those users, and a refused code looks
/// like a wrong one: nothing else would say why. So the daemon checks once as it starts and
/// says so in its log.
public struct FactorKeyCheck: Sendable {
    /// The users whose sealed secret does not open with the key, in no particular order.
    public let unopened: [EntityID]
    /// The users with a second factor.
    public let enrolled: Int

    /// Tries every sealed secret in `directory` with `box`.
    public init(box: FactorSecretBox, directory: Directory) {
        (enrolled, unopened) = directory.secondFactors(notOpenedBy: box)
    }

    /// An error in `logger` when any secret does not open with the key in `keyFile`;
    /// `made` says the daemon made that key just now, the data directory having none.
    public func report(keyFile: String, made: Bool = false, logger: Logger) {
        guard !unopened.isEmpty else { return }
        let key = made ? "\(keyFile), a key made just now because the data directory had none" : keyFile
        logger.error(
            "\(unopened.count) of \(enrolled) second-factor secrets do not open with \(key): it is not the key they were sealed with, so their users' codes are refused here (recovery codes still work); stop the daemon and put the key they were enrolled with in its place (docs/cluster.md: every node holds one copy of the same key)",
            metadata: ["factor.unopened": "\(unopened.count)"]
        )
    }
}
