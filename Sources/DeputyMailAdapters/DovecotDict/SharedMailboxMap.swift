import DeputyServer
import DeputyCore
import Foundation

/// The dict that Dovecot's `acl_sharing_map` reads: which users share mailboxes with whom.
///
/// One key per delegated mailbox a user may open, `shared/shared-boxes/user/<to>/<from>`
/// with the value `1`, where `<to>` is the delegate's login and `<from>` the mailbox
/// owner's. It holds exactly the delegated mailboxes of ``DeputyCore/Directory/mailboxes(of:at:)``
/// (the function behind `QUERY MAILBOXES`): delegations giving `read` or `manage`, direct
/// or through a group, not expired, the delegate not blocked. Dovecot's `anyone`,
/// `authenticated` and `group` keys are never present: group delegations are listed under
/// each member.
public enum SharedMailboxMap {
    /// The prefix of every key.
    public static let prefix = "shared/shared-boxes/"
    /// The prefix of per-user keys.
    public static let userPrefix = prefix + "user/"

    /// The value of `key`: `1` when it is present, else `nil`. The logins in the key are
    /// matched case-insensitively.
    public static func lookup(_ key: String, in directory: Directory, at now: Date) -> String? {
        guard key.lowercased().hasPrefix(userPrefix) else { return nil }
        let rest = key.dropFirst(userPrefix.count)
        // An address's local part may hold a `/`, so try every split.
        var index = rest.startIndex
        while let slash = rest[index...].firstIndex(of: "/") {
            let delegate = String(rest[..<slash])
            let owner = rest[rest.index(after: slash)...].lowercased()
            if let mailboxes = directory.mailboxes(of: delegate, at: now),
                mailboxes.contains(where: { !$0.isOwner && $0.mailbox.value == owner }) {
                return "1"
            }
            index = rest.index(after: slash)
        }
        return nil
    }

    /// The keys at or below `path`, sorted, at most `limit` of them, each with the value `1`.
    ///
    /// Without ``DovecotDictCommand/IterationFlags/recurse`` only direct children of the
    /// path are listed; with ``DovecotDictCommand/IterationFlags/exactKey`` only the path
    /// itself. Keys keep the path as the client spelled it.
    public static func iterate(
        _ path: String, flags: DovecotDictCommand.IterationFlags, limit: Int, in directory: Directory, at now: Date
    ) -> [(key: String, value: String)] {
        if flags.contains(.exactKey) {
            return lookup(path, in: directory, at: now).map { [(path, $0)] } ?? []
        }
        let lowered = path.lowercased()
        // Dovecot asks for `anyone/` and `authenticated/` at every login: no key is there,
        // and finding that out must not cost a look at every delegation.
        guard lowered.hasPrefix(userPrefix) || userPrefix.hasPrefix(lowered) else { return [] }
        var keys: [String]
        if lowered.hasPrefix(userPrefix), lowered.hasSuffix("/"), lowered.count > userPrefix.count + 1 {
            // The question Dovecot asks for every login: what is shared with this user?
            let delegate = String(path.dropFirst(userPrefix.count).dropLast())
            keys = sharedOwners(with: delegate, in: directory, at: now).map { path + $0 }
        } else {
            // Anything broader, such as a rebuild reading the whole map: every pair.
            keys = []
            for delegate in delegates(in: directory, at: now) {
                let head = userPrefix + delegate + "/"
                guard head.hasPrefix(lowered) || lowered.hasPrefix(head) else { continue }
                for owner in sharedOwners(with: delegate, in: directory, at: now) {
                    let key = head + owner
                    guard key.hasPrefix(lowered) else { continue }
                    guard flags.contains(.recurse) || !key.dropFirst(lowered.count).contains("/") else { continue }
                    keys.append(key)
                }
            }
        }
        keys.sort()
        return keys.prefix(limit).map { ($0, "1") }
    }

    /// The logins that hold an active delegation, directly or through a group, sorted.
    static func delegates(in directory: Directory, at now: Date) -> [String] {
        var logins: Set<String> = []
        // A group holds many delegations: its members are added once.
        var groupsSeen: Set<String> = []
        for view in directory.allDelegations(at: now) where view.active {
            if view.delegateIsGroup {
                guard groupsSeen.insert(view.delegate.value).inserted else { continue }
                for member in directory.members(of: view.delegate.value, expanded: true) ?? [] where !member.external {
                    logins.insert(member.address.value)
                }
            } else {
                logins.insert(view.delegate.value)
            }
        }
        return logins.sorted()
    }

    /// The owners of the mailboxes delegated to `login` for reading, sorted.
    static func sharedOwners(with login: String, in directory: Directory, at now: Date) -> [String] {
        (directory.mailboxes(of: login, at: now) ?? []).filter { !$0.isOwner }.map(\.mailbox.value).sorted()
    }
}
