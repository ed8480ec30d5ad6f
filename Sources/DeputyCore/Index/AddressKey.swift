/// A lowercase address as an index key, with its hash computed once.
///
/// Swift's `String` hashing runs SipHash over the text on every lookup; on the send-as path
/// that was a third of the cost. An `AddressKey` hashes its bytes once with FNV-1a, folding
/// ASCII capitals as it goes, and feeds only that 64-bit digest to the hash tree. A lookup
/// key for mixed-case text keeps the text as sent and compares it without case, so a
/// lookup never allocates a lowercase copy.
struct AddressKey: Hashable, Sendable {
    /// The address as stored (lowercase), or as a client sent it when ``foldsCase``.
    let raw: String
    /// FNV-1a over the lowercase bytes.
    let digest: UInt64
    /// Whether `raw` may hold ASCII capitals.
    let foldsCase: Bool

    /// The address in lowercase.
    var text: String { foldsCase ? String(decoding: raw.utf8.map(Self.folded), as: UTF8.self) : raw }

    /// A key for an address already in lowercase.
    init(_ address: EmailAddress) {
        self.raw = address.value
        self.digest = Self.digest(address.value.utf8, folding: false)
        self.foldsCase = false
    }

    /// A key for looking up text as it came from a client, matched without regard to case;
    /// anything longer than an address can be is `nil`.
    init?(lookup raw: String) {
        var raw = raw
        // One pass over the contiguous bytes (withUTF8): scanning and hashing through the
        // UTF-8 view cost several times as much on every lookup.
        let scanned: (ascii: Bool, capitals: Bool, digest: UInt64)? = raw.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= EmailAddress.maximumLength else { return nil }
            var capitals = false
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes {
                if byte >= 0x80 { return (false, false, 0) }
                let isCapital = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
                capitals = capitals || isCapital
                hash ^= UInt64(isCapital ? byte | 0x20 : byte)
                hash &*= 0x0000_0100_0000_01B3
            }
            return (true, capitals, hash)
        }
        guard let scanned else { return nil }
        if scanned.ascii {
            self.raw = raw
            self.digest = scanned.digest
            self.foldsCase = scanned.capitals
        } else {
            // Outside ASCII, lowercasing follows Unicode (the Kelvin sign becomes `k`), as
            // it does when an address is stored.
            let lowered = raw.lowercased()
            self.raw = lowered
            self.digest = Self.digest(lowered.utf8, folding: false)
            self.foldsCase = false
        }
    }

    @inline(__always)
    static func folded(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    static func digest(_ bytes: String.UTF8View, folding: Bool) -> UInt64 {
        if let hash = bytes.withContiguousStorageIfAvailable({ digest($0, folding: folding) }) { return hash }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(folding ? folded(byte) : byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func digest(_ bytes: UnsafeBufferPointer<UInt8>, folding: Bool) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(folding ? folded(byte) : byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }

    static func == (lhs: AddressKey, rhs: AddressKey) -> Bool {
        guard lhs.digest == rhs.digest else { return false }
        guard lhs.foldsCase || rhs.foldsCase else { return lhs.raw == rhs.raw }
        var left = lhs.raw
        var right = rhs.raw
        return left.withUTF8 { a in
            right.withUTF8 { b in
                guard a.count == b.count else { return false }
                for index in 0..<a.count where folded(a[index]) != folded(b[index]) { return false }
                return true
            }
        }
    }
}
