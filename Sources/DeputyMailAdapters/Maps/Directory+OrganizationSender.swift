import DeputyCore

extension Directory {
    /// Whether a sender address, as a mail server passes it on, is one that only the
    /// organisation's users may send as: an address of the directory, or any address in one
    /// of the organisation's domains.
    ///
    /// Read by its domain when Deputy can't take it as an address, so that no spelling slips
    /// past: a local part with `=` or a quoted one (`"boss"@example.org` is boss's mailbox to
    /// a mail reader), or a domain with a trailing dot, which Postfix strips before it queues
    /// the message.
    func isOrganizationSender(_ raw: String) -> Bool {
        if let address = EmailAddress(raw), owner(of: address) != nil || organization?.hosts(address.domain) == true {
            return true
        }
        // A domain never holds an `@`; a quoted local part may.
        guard let at = raw.lastIndex(of: "@") else { return false }
        var domain = Substring(raw[raw.index(after: at)...].lowercased())
        while domain.hasSuffix(".") { domain = domain.dropLast() }
        return !domain.isEmpty && organization?.hosts(domain) == true
    }
}
