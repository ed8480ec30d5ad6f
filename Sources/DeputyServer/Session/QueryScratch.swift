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

    /// Where the session's last search stopped, for the page after it: `deputy export` and
    /// any client paging through a large directory with `offset=` asks for the next page
    /// with the same filter, and would otherwise have every entry before it built and
    /// matched again, page after page.
    var searchResumption: SearchResumption?

    /// A ``DeputyCore/SearchCursor`` with what it is good for. A class, so that the scratch
    /// every lookup moves in and out of its session grows by one word, not by the search's
    /// key.
    final class SearchResumption: Sendable {
        /// The filter as the client wrote it, compared byte for byte.
        let filter: String
        let principal: Principal
        let generation: UInt64
        let revision: UInt64
        /// The `offset=` the next page asks for: the matches before the cursor.
        let offset: Int
        let cursor: SearchCursor
        /// The place of the last entry of the page, for a next page that overlaps it by one.
        let lastCursor: SearchCursor?

        init(filter: String, principal: Principal, generation: UInt64, revision: UInt64, offset: Int, cursor: SearchCursor, lastCursor: SearchCursor?) {
            self.filter = filter
            self.principal = principal
            self.generation = generation
            self.revision = revision
            self.offset = offset
            self.cursor = cursor
            self.lastCursor = lastCursor
        }
    }

    /// The cursor for a page at `offset` of `filter`, seen by `principal` in the directory
    /// at `revision` published in `generation`, when the last search stopped just there, or
    /// one entry before.
    func searchCursor(filter: String, principal: Principal, generation: UInt64, revision: UInt64, offset: Int) -> SearchCursor? {
        guard let last = searchResumption, last.generation == generation, last.revision == revision,
              last.principal == principal, last.filter.utf8.elementsEqual(filter.utf8)
        else { return nil }
        if offset == last.offset { return last.cursor }
        if offset == last.offset - 1 { return last.lastCursor }
        return nil
    }

    /// The identities of every delegation, as the session's last `QUERY DELEGATIONS` page
    /// read them, for the next page: sorting them is most of a page's cost (45 ms for
    /// 200,000), and a client pages through them all.
    var delegationOrder: DelegationOrder?

    /// ``DeputyCore/Directory/delegationOrder`` with what it is good for. A class, as
    /// ``SearchResumption`` is.
    ///
    /// Kept by what changes whenever the set of delegations does, and by little else: every
    /// delegation added takes a new identity (``DeputyCore/Directory/nextIdentity``), and
    /// every one removed lowers the count. The revision would not do: a failed login or a
    /// delegated send moves it, and on a busy mail system one comes between any two pages.
    final class DelegationOrder: Sendable {
        let nextIdentity: UInt64
        let identities: [EntityID]

        init(nextIdentity: UInt64, identities: [EntityID]) {
            self.nextIdentity = nextIdentity
            self.identities = identities
        }
    }

    /// The delegations' order in `directory`: the one kept, when the set of delegations is
    /// still the one it was read from, else `directory`'s, kept for the next page.
    mutating func delegationOrder(of directory: Directory) -> [EntityID] {
        if let kept = delegationOrder, kept.nextIdentity == directory.nextIdentity, kept.identities.count == directory.delegations.count {
            return kept.identities
        }
        let order = DelegationOrder(nextIdentity: directory.nextIdentity, identities: directory.delegationOrder)
        delegationOrder = order
        return order.identities
    }

    /// The largest reply buffer a session keeps for its next lookup.
    static let largestKeptReplyBuffer = 16 * 1_024
}
