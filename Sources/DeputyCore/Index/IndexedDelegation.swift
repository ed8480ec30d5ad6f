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
}
