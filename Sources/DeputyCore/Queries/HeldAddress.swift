/// An address an answer names, held inline as the address index holds it
/// (``InlineAddress``), so that an answer that only writes it out makes no `String` of it.
///
/// A delegated `SENDAS` names the mailbox's owner: as an ``EmailAddress`` that was a string
/// allocated and freed for every such answer, or a reference counted on the directory's own
/// string, which every thread answering about the mailbox shares.
public struct HeldAddress: Hashable, Sendable, CustomStringConvertible {
    let held: InlineAddress

    /// Holds `address`.
    public init(_ address: EmailAddress) {
        held = InlineAddress(address)
    }

    init(held: InlineAddress) {
        self.held = held
    }

    /// The address.
    public var address: EmailAddress { held.address }

    /// The address's text.
    public var value: String { held.address.value }

    public var description: String { value }

    // Equal as the addresses are (`String`'s equality), not as the bytes held are: the
    // value compares as the ``EmailAddress`` it replaced did.
    public static func == (lhs: HeldAddress, rhs: HeldAddress) -> Bool {
        lhs.address == rhs.address
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
    }

    /// Calls `body` with the address's UTF-8 bytes, valid only during the call.
    public func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try held.withUTF8(body)
    }
}
