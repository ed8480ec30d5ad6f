import Crypto

/// The log's hash chain: `digest(n) = sha256(digest(n-1) || body(n))`, as `deputy_append`
/// computes it with PostgreSQL's `sha256()`.
enum HashChain {
    /// The digest after `body`, following `previous`.
    static func next(_ previous: [UInt8], _ body: [UInt8]) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: previous)
        hash.update(data: body)
        return Array(hash.finalize())
    }

    /// SHA-256 of `bytes`: a snapshot's checksum, and the chain's genesis for a log that
    /// starts from a snapshot.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Lowercase hexadecimal, for logs and files.
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// The bytes of lowercase or uppercase hexadecimal text; `nil` when it is not that.
    static func bytes(hex text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
