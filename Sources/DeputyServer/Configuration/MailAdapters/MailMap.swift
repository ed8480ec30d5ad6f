/// A lookup table that Postfix can query through socketmap or tcp_table.
///
/// Every value is a comma-separated list; a key with nothing to list is not found.
public enum MailMap: String, Hashable, Sendable, CaseIterable {
    /// An address to the logins allowed to use it as envelope sender, for
    /// `smtpd_sender_login_maps`: `boss@x.test` → `secretary@x.test,boss@x.test`.
    /// The list is ``DeputyCore/Directory/senders(of:at:)``, the function behind
    /// `QUERY SENDERS`, so it agrees with `QUERY SENDAS` on every case.
    case senders
    /// A login to the mailboxes it may open, its own first:
    /// `secretary@x.test` → `secretary@x.test,boss@x.test`.
    case mailboxes
    /// A mailbox to its active delegates, each with its permissions joined by `+`:
    /// `boss@x.test` → `secretary@x.test:read+sendas,sales@x.test:read`. A delegation to a
    /// group is listed under the group's address.
    case delegates
    /// An address to where its mail goes, for `virtual_alias_maps`: an alias to its user's
    /// primary address, a primary address to itself (Postfix stops expanding an address
    /// that maps to itself, so this cannot loop, and it marks the address as a valid
    /// recipient), a group's address to its members.
    case aliases
}
