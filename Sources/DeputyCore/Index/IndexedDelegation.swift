/// A delegation as the address index holds it: with the delegate's login and blocked flag
/// when the delegate is a user, so that a send-as check through a direct grant compares the
/// login against the mailbox's own entry and needs no lookup of the login.
struct IndexedDelegation: Hashable, Sendable {
    /// The delegation.
    let delegation: Delegation
    /// The delegate's primary address as a key, for a delegation to a user.
    let delegateLogin: InlineAddress?
    /// Whether that user is blocked.
    let delegateBlocked: Bool
    /// The digest of ``delegateLogin``, or 0 without one: a plain word the send-as check
    /// compares first, read in place. Matching the optional address itself makes the
    /// compiler copy the whole grant, counting references on the strings it holds, so it is
    /// done only for the grant whose digest matches.
    let delegateDigest: UInt64

    init(delegation: Delegation, delegateLogin: InlineAddress?, delegateBlocked: Bool) {
        self.delegation = delegation
        self.delegateLogin = delegateLogin
        self.delegateBlocked = delegateBlocked
        self.delegateDigest = delegateLogin?.digest ?? 0
    }
}
