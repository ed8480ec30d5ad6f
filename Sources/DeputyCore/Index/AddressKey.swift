/// A lowercase address as an index key, with its hash computed once.
///
/// Swift's `String` hashing runs SipHash over the text on every lookup; on the send-as path
/// that was a third of the cost. An `AddressKey` hashes its bytes once (``digest(_:folding:)``),
/// folding ASCII capitals as it goes, and feeds only that 64-bit digest to the hash tree. A lookup
/// key for mixed-case text keeps the text as sent and compares it without case, so a
/// lookup never allocates a lowercase copy.
struct AddressKey: Hashable, Sendable {
    /// The address as stored (lowercase), or as a client sent it when ``foldsCase``.
    let raw: String
    /// ``digest(_:folding:)`` of the lowercase bytes.
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
            guard let folded = Self.foldedASCIIDigest(bytes) else { return (false, false, 0) }
            return (true, folded.capitals, folded.digest)
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

    /// ``digest(_:folding:)`` of a string's bytes.
    static func digest(_ bytes: String.UTF8View, folding: Bool) -> UInt64 {
        if let hash = bytes.withContiguousStorageIfAvailable({ digest($0, folding: folding) }) { return hash }
        return Array(bytes).withUnsafeBufferPointer { digest($0, folding: folding) }
    }

    /// The digest of `bytes`, with ASCII capitals folded to lowercase when `folding`: a
    /// multiply-and-shift step for each eight bytes (the last zero-padded), then a final mix.
    ///
    /// Every digest of an address is this one: an index built from stored addresses, a
    /// lookup by `String` and a probe from a request's bytes (``InlineAddress``) must agree.
    /// Eight bytes a step, where FNV-1a's byte a step was a chain of 25 dependent
    /// multiplications for a typical address, four digests a `SENDAS`.
    static func digest(_ bytes: UnsafeBufferPointer<UInt8>, folding: Bool) -> UInt64 {
        var hash = digestStart(count: bytes.count)
        forEachWord(of: bytes) { word in hash = digestStep(hash, folding ? foldedWord(word) : word) }
        return digestFinish(hash)
    }

    /// Calls `body` with each eight bytes of `bytes` as a little-endian word, the last
    /// zero-padded.
    @inline(__always)
    static func forEachWord(of bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt64) -> Void) {
        guard let base = UnsafeRawPointer(bytes.baseAddress) else { return }
        var index = 0
        while index + 8 <= bytes.count {
            body(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        guard index < bytes.count else { return }
        var tail: UInt64 = 0
        withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + index, count: bytes.count - index)) }
        body(UInt64(littleEndian: tail))
    }

    /// One pass over `bytes`, eight bytes a step: their digest with ASCII capitals folded
    /// (``digest(_:folding:)``), and whether there were capitals to fold; `nil` when a byte
    /// is outside ASCII.
    @inline(__always)
    static func foldedASCIIDigest(_ bytes: UnsafeBufferPointer<UInt8>) -> (digest: UInt64, capitals: Bool)? {
        var high: UInt64 = 0
        var capitals = false
        var hash = digestStart(count: bytes.count)
        forEachWord(of: bytes) { word in
            high |= word
            let folded = foldedWord(word)
            capitals = capitals || folded != word
            hash = digestStep(hash, folded)
        }
        guard high & 0x8080_8080_8080_8080 == 0 else { return nil }
        return (digestFinish(hash), capitals)
    }

    /// Whether every byte of `bytes` is ASCII, eight bytes a step.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt64 = 0
        forEachWord(of: bytes) { high |= $0 }
        return high & 0x8080_8080_8080_8080 == 0
    }

    @inline(__always)
    static func digestStart(count: Int) -> UInt64 {
        0xCBF2_9CE4_8422_2325 ^ UInt64(truncatingIfNeeded: count)
    }

    @inline(__always)
    static func digestStep(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (hash ^ word) &* 0x9E37_79B9_7F4A_7C15
        return mixed ^ (mixed >> 29)
    }

    /// MurmurHash3's finaliser, so that every bit of the last word reaches the low bits
    /// the index's slots are chosen by.
    @inline(__always)
    static func digestFinish(_ hash: UInt64) -> UInt64 {
        var hash = hash
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }

    /// `word` with each of its eight bytes that is an ASCII capital folded to lowercase, as
    /// ``folded(_:)`` folds one: on the low seven bits of each byte, adding 0x3F sets the top
    /// bit from `A` up and adding 0x25 from `[` up, with no carry between bytes.
    @inline(__always)
    static func foldedWord(_ word: UInt64) -> UInt64 {
        let low = word & 0x7F7F_7F7F_7F7F_7F7F
        let fromA = low &+ 0x3F3F_3F3F_3F3F_3F3F
        let pastZ = low &+ 0x2525_2525_2525_2525
        let capitals = fromA & ~pastZ & ~word & 0x8080_8080_8080_8080
        return word | (capitals >> 2)
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
