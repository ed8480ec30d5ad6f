/// An address a client asked about, ready for one lookup without a `String`: its bytes
/// folded to lowercase and held inline, with their digest.
///
/// A mail server's `QUERY SENDAS` names two addresses, and making a `String` of each was
/// two allocations an answer. A probe is made from the request's bytes where they lie, and
/// finds what ``Directory/sendAs(login:address:at:)`` finds for the same text.
public struct AddressProbe: Sendable {
    /// The address in lowercase, or `nil` for text longer than any address, which names
    /// none.
    let address: InlineAddress?

    /// A probe of `bytes`, or `nil` when they are not all ASCII: lowercasing other text
    /// follows Unicode, so such a lookup goes by `String`.
    public init?(ascii bytes: UnsafeBufferPointer<UInt8>) {
        guard AddressKey.isASCII(bytes) else { return nil }
        address = bytes.isEmpty || bytes.count > EmailAddress.maximumLength ? nil : InlineAddress(foldingASCII: bytes)
    }
}

/// The login a send-as check was asked about, as a key or as a probe: what the check
/// compares a delegate's or owner's inline login with, and how it finds the login's own
/// entry.
protocol LoginLookup {
    /// ``AddressKey/digest(_:folding:)`` of the login in lowercase, as ``InlineAddress/digest``.
    var digest: UInt64 { get }
    /// Whether `held` is this login.
    func names(_ held: InlineAddress) -> Bool
    /// Calls `body` with the login's own entry in `addresses`, or `nil`.
    func withEntry<Result>(in addresses: AddressIndex, _ body: (AddressEntry?) -> Result) -> Result
}

extension AddressKey: LoginLookup {
    func names(_ held: InlineAddress) -> Bool { held.matches(self) }
    func withEntry<Result>(in addresses: AddressIndex, _ body: (AddressEntry?) -> Result) -> Result { body(addresses[self]) }
}

extension InlineAddress: LoginLookup {
    func names(_ held: InlineAddress) -> Bool { held == self }
    /// Borrowed where the table holds it: see ``AddressTable/withEntry(at:_:)``.
    func withEntry<Result>(in addresses: AddressIndex, _ body: (AddressEntry?) -> Result) -> Result { addresses.withEntry(at: self, body) }
}
