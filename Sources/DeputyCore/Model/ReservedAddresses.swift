/// Addresses that users can't claim with a personal group.
///
/// A personal group's address receives mail and, with an administrator's consent, lets its
/// members send as it; at a role address (`postmaster@`, `abuse@`) that would let any user
/// read and answer the organisation's official mail.
public enum ReservedAddresses {
    /// The mailbox names of RFC 2142 ("Mailbox names for common services, roles and
    /// functions"), reserved in every domain of the organisation whatever the settings.
    public static let roleMailboxes: Set<String> = [
        "info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster",
        "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp",
    ]

    /// The local parts a new organisation reserves besides them; administrators change the
    /// list with `MODIFY ORG reserved=`.
    public static let defaultLocalParts = ["admin", "administrator", "root", "mailer-daemon", "noreply", "no-reply"]

    /// Checks an administrator's list: local parts of 1 to 64 characters, without `@` or
    /// spaces, at most 256 of them. Returns them lowercased and without repeats.
    public static func normalize(_ localParts: [String]) -> [String]? {
        guard localParts.count <= 256 else { return nil }
        var seen: Set<String> = []
        var result: [String] = []
        for part in localParts {
            let lowered = part.lowercased()
            guard (1...64).contains(lowered.utf8.count),
                lowered.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: ",") })
            else { return nil }
            if seen.insert(lowered).inserted { result.append(lowered) }
        }
        return result
    }
}
