import DeputyServer
import DeputyCore
import Foundation

/// The global ACL file Dovecot 2.3 reads for shared mailboxes (`acl = vfile:<file>` with
/// `acl_globals_only = yes`): the rights each delegate holds on each owner's mailboxes,
/// from the directory.
///
/// One pair of lines per delegate and mailbox, for the owner's namespace root (their
/// INBOX, `shared/alice@example.test`) and everything below it:
///
/// ```
/// "shared/alice@example.test" user=bob@example.test lrs
/// "shared/alice@example.test/*" user=bob@example.test lrs
/// ```
///
/// It holds exactly the delegated mailboxes of ``DeputyCore/Directory/mailboxes(of:at:)``
/// (as the sharing map does): delegations giving `read` or `manage`, directly or through
/// a group, not expired, the delegate not blocked. `read` gives `lrs` (lookup, read,
/// write-seen); `manage` gives `lrwstipekx` (adds write, write-deleted, insert, post,
/// expunge, create, delete). A first line gives owners every right on their own mailboxes
/// but administer (`a`), so that nobody grants rights outside the directory.
public enum DovecotACLFile {
    /// The rights of `read`: lookup, read, write-seen.
    public static let readRights = "lrs"
    /// The rights of `manage`: lookup, read, write, write-seen, write-deleted, insert, post,
    /// expunge, create, delete.
    public static let manageRights = "lrwstipekx"
    /// The owners' rights on their own mailboxes: everything but administer.
    public static let ownerRights = "lrwstipekx"

    /// The file's text, and what it had to leave out.
    public struct Contents: Equatable, Sendable {
        public let text: String
        /// Logins that can't be written safely (Dovecot reads `*` and `?` in a pattern as
        /// wildcards, with no escape, and `/` as the hierarchy separator), with the
        /// delegations that were left out because of them.
        public let skipped: [String]
        /// The earliest time an active delegation in the file expires, when the file must be
        /// written again.
        public let nextExpiry: Date?
    }

    /// The first line of every file: also how the writer knows a file at its path for one
    /// of its own, which it may replace.
    public static let firstLine = "# Written by deputyd from its directory: do not edit, it is replaced on every change."

    /// The file for `directory` at `now`, for a shared namespace whose prefix is
    /// `prefix` followed by the owner's login (`shared/` for `prefix = shared/%%u/`).
    public static func contents(of directory: Directory, at now: Date, prefix: String = "shared/") -> Contents {
        var lines: [String] = [
            firstLine,
            "# Owners keep every right on their own mailboxes but administer (a): rights come from Deputy.",
            "* owner \(ownerRights)",
        ]
        var entries: [(owner: String, delegate: String, rights: String)] = []
        var skipped: Set<String> = []
        var nextExpiry: Date?
        for access in directory.delegatedMailboxAccess(at: now) {
            // Every access holds `read`; `manage` gives more.
            let rights = access.permissions.contains(.manage) ? manageRights : readRights
            let owner = access.mailbox.value
            let delegate = access.delegate.value
            guard isSafe(owner), isSafe(delegate) else {
                skipped.insert(isSafe(owner) ? delegate : owner)
                continue
            }
            entries.append((owner, delegate, rights))
            if let expiry = access.nextExpiry { nextExpiry = min(nextExpiry ?? expiry, expiry) }
        }
        entries.sort { ($0.owner, $0.delegate) < ($1.owner, $1.delegate) }
        for entry in entries {
            let root = prefix + entry.owner
            lines.append("\"\(root)\" user=\(entry.delegate) \(entry.rights)")
            lines.append("\"\(root)/*\" user=\(entry.delegate) \(entry.rights)")
        }
        return Contents(text: lines.joined(separator: "\n") + "\n", skipped: skipped.sorted(), nextExpiry: nextExpiry)
    }

    /// Whether a login can stand in a pattern and as an identifier as it is: no wildcard,
    /// separator, quote, backslash, space or control character.
    static func isSafe(_ login: String) -> Bool {
        // Byte by byte: every byte of a scalar above U+007F is 0x80 or more, and every such
        // scalar is safe, so the bytes below 0x80 are the scalars to judge.
        !login.utf8.contains { byte in
            byte < 0x21 || byte == 0x7F || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
        }
    }
}
