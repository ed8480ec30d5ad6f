import Foundation

/// Entries as LDIF (RFC 2849), for loading into an LDAP server:
///
/// ```
/// version: 1
///
/// dn: uid=alice,ou=users,dc=example,dc=test
/// objectclass: top
/// cn: Alice Liddell
/// displayname:: IFpvw6s6IHRoZSBib3Nz
/// ```
///
/// A value (or distinguished name) that is not a SAFE-STRING, or that ends with a space, is
/// written `name:: <base64 of its UTF-8>`; every line longer than 76 characters is folded
/// into continuation lines that start with one space.
enum LDIFWriter {
    /// The longest line written, not counting its line feed.
    static let lineLength = 76

    /// An attribute name that is not an LDAP attribute type (`ALPHA *(ALPHA / DIGIT / "-")`).
    struct InvalidAttributeName: Error, CustomStringConvertible {
        let name: String
        var description: String { "'\(name)' is not an LDAP attribute name" }
    }

    /// One entry: its distinguished name and its attributes in the order to write them.
    struct Entry {
        let distinguishedName: String
        let attributes: [(name: String, values: [String])]
    }

    /// The document: `version: 1`, then each entry after a blank line.
    static func document(_ entries: [Entry]) throws(InvalidAttributeName) -> String {
        var text = "version: 1\n"
        for entry in entries {
            text += "\n" + line("dn", entry.distinguishedName)
            for attribute in entry.attributes {
                guard isAttributeName(attribute.name) else { throw InvalidAttributeName(name: attribute.name) }
                for value in attribute.values { text += line(attribute.name, value) }
            }
        }
        return text
    }

    /// `name: value` or `name:: base64`, folded, with its line feed.
    static func line(_ name: String, _ value: String) -> String {
        if isSafe(value) { return fold(value.isEmpty ? "\(name):" : "\(name): \(value)") }
        return fold("\(name):: \(Data(value.utf8).base64EncodedString())")
    }

    /// Whether `value` may be written as it is: a SAFE-STRING of RFC 2849 (ASCII without NUL,
    /// LF or CR, not starting with a space, `:` or `<`) that does not end with a space, which
    /// the RFC asks to encode as well.
    static func isSafe(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first, let last = bytes.last else { return true }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: ":") || first == UInt8(ascii: "<") { return false }
        if last == UInt8(ascii: " ") { return false }
        return bytes.allSatisfy { $0 != 0 && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") && $0 < 0x80 }
    }

    /// `ALPHA *(ALPHA / DIGIT / "-")`, the attribute types this writer accepts.
    static func isAttributeName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        guard let first = bytes.first, isAlpha(first) else { return false }
        return bytes.allSatisfy { isAlpha($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
    }

    /// The line, cut after 76 bytes and then after every further 75, each continuation
    /// starting with a space; ends with a line feed. Lines given here are ASCII (anything else
    /// was base64-encoded), so a cut never falls inside a character.
    static func fold(_ line: String) -> String {
        let bytes = Array(line.utf8)
        guard bytes.count > lineLength else { return line + "\n" }
        var text = String(decoding: bytes[0..<lineLength], as: UTF8.self) + "\n"
        var start = lineLength
        while start < bytes.count {
            let end = min(start + lineLength - 1, bytes.count)
            text += " " + String(decoding: bytes[start..<end], as: UTF8.self) + "\n"
            start = end
        }
        return text
    }
}
