import DeputyServer
import DeputyCore

/// An address as a mail server passed it, read against the directory.
struct ExtendedAddress: Hashable, Sendable {
    /// The address the directory knows: as written, or without its extension.
    let address: String
    /// The extension taken off it (`+lists`), with its delimiter; `nil` when the address
    /// is used as written.
    let addressExtension: String?
}

extension Directory {
    /// `address` as written when the directory knows it (a user, an alias or a group) or
    /// when no delimiter is set; otherwise, when taking its extension off gives an address
    /// the directory knows, that address and the extension, as Postfix reads a table of
    /// fixed keys: the whole address first, then the address without its extension.
    func extended(_ address: String, delimiter: RecipientDelimiter?) -> ExtendedAddress {
        let asWritten = ExtendedAddress(address: address, addressExtension: nil)
        guard let delimiter, let parsed = EmailAddress(address), owner(of: parsed) == nil,
              let (base, addressExtension) = delimiter.split(address),
              let baseAddress = EmailAddress(base), owner(of: baseAddress) != nil
        else { return asWritten }
        return ExtendedAddress(address: base, addressExtension: addressExtension)
    }
}
