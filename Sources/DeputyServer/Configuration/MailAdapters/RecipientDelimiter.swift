/// The characters that start an address extension, as Postfix's `recipient_delimiter`:
/// with `+`, `alice+lists@example.org` is `alice@example.org` with the extension `+lists`.
///
/// Postfix strips the extension itself only for tables of fixed keys; `socketmap` and `tcp`
/// tables are pattern tables, so Postfix sends them the whole address once and never the
/// address without its extension. The mail listeners therefore strip it here, by Postfix's
/// own rules (``split(_:)``), and only for an address that the directory does not know as
/// written.
public struct RecipientDelimiter: Hashable, Sendable, CustomStringConvertible {
    /// The delimiter characters, each one ASCII byte; the first of them in a local part
    /// starts its extension.
    public let characters: String

    /// Punctuation that can't start an extension: the address's own syntax (`@`, `.`,
    /// quotes, the specials of RFC 5322) would be read differently.
    private static let refused: Set<UInt8> = Set("@.\"\\()<>[],;:".utf8)

    /// A delimiter of `text`'s characters, or `nil` when `text` is empty or holds anything
    /// other than ASCII punctuation outside RFC 5322's specials, `@` and `.`.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
        for byte in bytes {
            let isPunctuation = (0x21...0x7E).contains(byte) && !(0x30...0x39).contains(byte)
                && !(0x41...0x5A).contains(byte) && !(0x61...0x7A).contains(byte)
            guard isPunctuation, !Self.refused.contains(byte) else { return nil }
        }
        characters = String(decoding: Set(bytes).sorted(), as: UTF8.self)
    }

    public var description: String { characters }

    /// `address` without its extension, and the extension with the delimiter that started
    /// it (`alice+lists@example.org`: `alice@example.org` and `+lists`); `nil` when it has
    /// none.
    ///
    /// As Postfix splits: at the first delimiter of the local part, never before its first
    /// character, and never in `postmaster`, `mailer-daemon` or `double-bounce`; with `-`
    /// among the delimiters, never in `owner-…` or `…-request`, the mailing-list addresses
    /// (Postfix's defaults for `double_bounce_sender` and `owner_request_special`).
    public func split(_ address: String) -> (base: String, extension: String)? {
        // Most addresses hold no delimiter: found out without copying anything.
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let local = address[..<at]
        guard let start = local.utf8.firstIndex(where: isDelimiter), start != local.startIndex else { return nil }
        let lowered = local.lowercased()
        if lowered == "postmaster" || lowered == "mailer-daemon" || lowered == "double-bounce" { return nil }
        if isDelimiter(UInt8(ascii: "-")), lowered.hasPrefix("owner-") || (lowered.count > 8 && lowered.hasSuffix("-request")) {
            return nil
        }
        return (String(address[..<start]) + address[at...], String(address[start..<at]))
    }

    private func isDelimiter(_ byte: UInt8) -> Bool { characters.utf8.contains(byte) }

    /// The addresses `address` would be an extension of if it were split at a later
    /// delimiter of its local part than ``split(_:)`` splits at: for `a+b+c@x`, `a+b@x`.
    public func longerBases(of address: String) -> [String] {
        guard let (_, addressExtension) = split(address), let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return [] }
        let local = address[..<at]
        let start = local.utf8.index(local.utf8.endIndex, offsetBy: -addressExtension.utf8.count)
        // Each delimiter after the first one of the extension ends a longer candidate.
        return local.utf8[local.utf8.index(after: start)...].indices.filter { isDelimiter(local.utf8[$0]) }.map {
            String(address[..<$0]) + address[at...]
        }
    }

    /// `address` with `addressExtension` put back before its `@`, as Postfix passes an
    /// unmatched extension on to the addresses a virtual alias gives.
    public static func extend(_ address: String, with addressExtension: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address + addressExtension }
        return String(address[..<at]) + addressExtension + address[at...]
    }
}
