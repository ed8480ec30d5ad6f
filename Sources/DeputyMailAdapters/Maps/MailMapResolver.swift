import DeputyServer
import DeputyCore
import Foundation

/// Answers ``MailMap`` lookups from one version of the directory.
///
/// Keys are matched case-insensitively. Postfix sends only whole addresses to socketmap and
/// tcp tables, never `@domain` or a bare local part, so anything that is not a whole
/// address is simply not found: every rule that depends on a domain is worked out here,
/// from the whole address. For the same reason an address extension (`alice+lists@`) is
/// taken off here, when a ``RecipientDelimiter`` is set: Postfix would try the address
/// without it only in a table of fixed keys.
public enum MailMapResolver {
    /// The answer of `map` for `key` in `directory` at `now`.
    ///
    /// With `delimiter`, an address the directory does not know as written is looked up
    /// without its extension (`senders`, `delegates`, `aliases`; a login in `mailboxes` is
    /// taken as written). The `aliases` map then puts the extension back on every address it
    /// gives, as Postfix does with an unmatched extension (`propagate_unmatched_extensions`),
    /// so that `alice+lists@` reaches `alice+lists@` and a group's members get it too.
    public static func lookup(_ map: MailMap, key: String, in directory: Directory, at now: Date, delimiter: RecipientDelimiter?) -> MailMapAnswer {
        guard let written = EmailAddress(key) else { return .notFound }
        // A login (mailboxes) is taken as written.
        let extended = map == .mailboxes ? ExtendedAddress(address: written.value, addressExtension: nil) : directory.extended(written.value, delimiter: delimiter)
        guard let address = extended.addressExtension == nil ? written : EmailAddress(extended.address) else { return .notFound }
        var values: [String]
        switch map {
        case .senders:
            values = directory.senders(of: address.value, at: now).map(\.login.value)
        case .mailboxes:
            values = directory.mailboxes(of: address.value, at: now)?.map(\.mailbox.value) ?? []
        case .delegates:
            values = directory.delegates(of: address.value, at: now)?.map { view in
                "\(view.delegate.value):" + view.permissions.map(\.rawValue).joined(separator: "+")
            } ?? []
        case .aliases:
            values = destinations(of: address, in: directory)
            if let addressExtension = extended.addressExtension {
                values = values.map { RecipientDelimiter.extend($0, with: addressExtension) }
            }
        }
        return values.isEmpty ? .notFound : .found(values)
    }

    private static func destinations(of address: EmailAddress, in directory: Directory) -> [String] {
        switch directory.owner(of: address) {
        case .user(let id), .alias(let id):
            return directory.user(id: id).map { [$0.address.value] } ?? []
        case .group:
            // Mail to a group reaches everyone inside it, through nested groups too.
            return directory.members(of: address.value, expanded: true)?.map(\.address.value) ?? []
        case nil:
            return []
        }
    }
}
