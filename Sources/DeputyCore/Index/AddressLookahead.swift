/// The addresses a batch of requests is about to look up, so that their lookups' memory is
/// loaded together (``DirectoryVersion/prefetch(_:)``) before the requests are answered one by one.
///
/// A mail server pipelines its lookups: one read brings a dozen queries, each of which
/// reads an index slot, an entry and the entry's delegations, each usually outside the
/// CPU's caches. Answered in turn, each waits for its own three trips to memory; announced
/// first, the dozen wait for about three together. A hint only: an address left out, or
/// one that is not in the directory, is looked up as usual.
public struct AddressLookahead: Sendable {
    /// The most addresses one batch announces; the rest are looked up without a hint.
    public static let capacity = 32

    /// The addresses' digests, as ``AddressKey`` computes them.
    private(set) var digests: [UInt64] = []

    /// An empty batch.
    public init() {
        digests.reserveCapacity(Self.capacity)
    }

    /// Whether the batch holds no address.
    public var isEmpty: Bool { digests.isEmpty }

    /// How many addresses the batch holds.
    public var count: Int { digests.count }

    /// Whether the batch takes no more addresses.
    public var isFull: Bool { digests.count >= Self.capacity }

    /// Empties the batch, keeping its memory for the next.
    public mutating func removeAll() {
        digests.removeAll(keepingCapacity: true)
    }

    /// Adds an address as a client sent it, in any case. Text outside ASCII (whose
    /// lowercase Unicode decides) or longer than an address is left out.
    public mutating func add(_ text: UnsafeRawBufferPointer) {
        guard !isFull, !text.isEmpty, text.count <= EmailAddress.maximumLength else { return }
        let bytes = text.assumingMemoryBound(to: UInt8.self)
        // One pass: checked for ASCII and hashed together.
        guard let folded = AddressKey.foldedASCIIDigest(bytes) else { return }
        digests.append(folded.digest)
    }
}

extension DirectoryVersion {
    /// Starts loading the index memory that looking up the addresses in `lookahead` in this
    /// version will read, and returns without waiting for it (see ``AddressLookahead``).
    public func prefetch(_ lookahead: AddressLookahead) {
        directory.indexes.addresses.prefetch(lookahead.digests)
    }
}
