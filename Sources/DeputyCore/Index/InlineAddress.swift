/// An address held inside the value that names it, compared with a lookup key without
/// reading any other memory.
///
/// The address index carries, in each mailbox's entry, the login of each delegate: a
/// send-as check compares the login it was given against them. Held as `String`s, each
/// comparison would read the string's heap storage, usually outside the CPU's caches;
/// held inline (addresses up to ``capacity`` bytes, nearly all of them), the comparison
/// stays within the entry's own delegation list.
struct InlineAddress: Hashable, Sendable {
    /// The longest address held inline; longer ones keep their ``EmailAddress``.
    static let capacity = 32

    private typealias Words = (UInt64, UInt64, UInt64, UInt64)

    /// ``AddressKey/digest(_:folding:)`` of the address.
    let digest: UInt64
    private let count: Int
    private let words: Words
    /// The address when it is longer than ``capacity``.
    private let overflow: EmailAddress?

    /// Holds `address` (lowercase, as every ``EmailAddress`` is).
    init(_ address: EmailAddress) {
        let utf8 = address.value.utf8
        var words: Words = (0, 0, 0, 0)
        let inline = utf8.count <= Self.capacity
        if inline {
            withUnsafeMutableBytes(of: &words) { buffer in
                for (index, byte) in utf8.enumerated() { buffer[index] = byte }
            }
        }
        self.digest = AddressKey.digest(utf8, folding: false)
        self.count = utf8.count
        self.words = words
        self.overflow = inline ? nil : address
    }

    /// Holds the ASCII text `bytes` folded to lowercase: an address as a client sent it, the
    /// same address ``AddressKey/init(lookup:)`` looks up. The caller has checked that every
    /// byte is ASCII and that there are at most ``EmailAddress/maximumLength``.
    init(foldingASCII bytes: UnsafeBufferPointer<UInt8>) {
        var words: Words = (0, 0, 0, 0)
        let inline = bytes.count <= Self.capacity
        if inline {
            // Copied, then folded and hashed eight bytes at a time: the words past the
            // address are zero, as the digest pads its last word.
            withUnsafeMutableBytes(of: &words) { held in held.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            words = (AddressKey.foldedWord(words.0), AddressKey.foldedWord(words.1), AddressKey.foldedWord(words.2), AddressKey.foldedWord(words.3))
            var hash = AddressKey.digestStart(count: bytes.count)
            let used = (bytes.count + 7) / 8
            if used > 0 { hash = AddressKey.digestStep(hash, UInt64(littleEndian: words.0)) }
            if used > 1 { hash = AddressKey.digestStep(hash, UInt64(littleEndian: words.1)) }
            if used > 2 { hash = AddressKey.digestStep(hash, UInt64(littleEndian: words.2)) }
            if used > 3 { hash = AddressKey.digestStep(hash, UInt64(littleEndian: words.3)) }
            self.digest = AddressKey.digestFinish(hash)
        } else {
            self.digest = AddressKey.digest(bytes, folding: true)
        }
        self.count = bytes.count
        self.words = words
        self.overflow = inline ? nil : EmailAddress(trusted: String(decoding: bytes.lazy.map(AddressKey.folded), as: UTF8.self))
    }

    /// Whether `key` (which may hold capitals) names this address.
    func matches(_ key: AddressKey) -> Bool {
        guard key.digest == digest, key.raw.utf8.count == count else { return false }
        if let overflow { return key == AddressKey(overflow) }
        var raw = key.raw
        return raw.withUTF8 { given in
            withUnsafeBytes(of: words) { held in
                for index in 0..<count where AddressKey.folded(given[index]) != held[index] { return false }
                return true
            }
        }
    }

    /// The address, rebuilt from the bytes held inline: a string of the reader's own,
    /// so that answering touches no storage shared with other threads.
    var address: EmailAddress {
        if let overflow { return overflow }
        let text = withUnsafeBytes(of: words) { held in String(decoding: held.prefix(count), as: UTF8.self) }
        return EmailAddress(trusted: text)
    }

    /// Calls `body` with the address's UTF-8 bytes, read where they are held.
    func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let overflow {
            var text = overflow.value
            return try text.withUTF8(body)
        }
        return try withUnsafeBytes(of: words) { held in
            try held.withMemoryRebound(to: UInt8.self) { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
        }
    }

    static func == (lhs: InlineAddress, rhs: InlineAddress) -> Bool {
        lhs.digest == rhs.digest && lhs.count == rhs.count && lhs.words == rhs.words && lhs.overflow == rhs.overflow
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }
}
