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
    ///
    /// One departure from Postfix, which splits at the first delimiter whatever follows: an
    /// address that would also be an extension of a longer address the directory knows
    /// (`sales+eu+x@` where both `sales@` and `sales+eu@` exist, or `john-smith-x@` beside
    /// `john@` and `john-smith@`) is taken as written, and so is nobody's. Giving it to the
    /// shorter address's owner would let them send as, and receive mail meant for, what
    /// reads as the longer address's.
    func extended(_ address: String, delimiter: RecipientDelimiter?) -> ExtendedAddress {
        let asWritten = ExtendedAddress(address: address, addressExtension: nil)
        // The split first: an address without a delimiter costs no parse or lookup here.
        guard let delimiter, let (base, addressExtension) = delimiter.split(address),
              let parsed = EmailAddress(address), owner(of: parsed) == nil,
              let baseAddress = EmailAddress(base), owner(of: baseAddress) != nil,
              !delimiter.longerBases(of: address).contains(where: { EmailAddress($0).map { owner(of: $0) != nil } ?? false })
        else { return asWritten }
        return ExtendedAddress(address: base, addressExtension: addressExtension)
    }
}
