import DeputyCore
import NIOCore

/// What a session's query leaves for its next, memory of the session's own rather than
/// allocated again or read from the directory every thread shares.
struct QueryScratch {
    /// The buffer the last lookup's records were written in, for the next lookup's: by then
    /// that reply has been copied out and dropped, so the buffer is this session's alone and
    /// is cleared in place, where a new one is two allocations (its storage and its bytes).
    var replyBuffer: ByteBuffer?
    /// The logins of the granters `QUERY DELEGATES` named, for as long as the session
    /// answers from the state of the directory they were read in.
    var granterLogins = GranterLogins()
    /// That state: the ``DeputyCore/LiveDirectory/generation`` of the session's view and the
    /// directory's revision.
    private var granterState: (generation: UInt64, revision: UInt64)?

    /// Makes ``granterLogins`` those of the directory at `revision`, published in
    /// `generation`, for a query answered from it: they are forgotten when that is another
    /// state of the directory than theirs (a node that rebuilt its directory publishes it
    /// anew, whatever its revision).
    mutating func useGranterLogins(generation: UInt64, revision: UInt64) {
        guard granterState?.generation != generation || granterState?.revision != revision else { return }
        granterLogins.removeAll()
        granterState = (generation, revision)
    }

    /// The largest reply buffer a session keeps for its next lookup.
    static let largestKeptReplyBuffer = 16 * 1_024
}
