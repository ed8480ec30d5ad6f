/// The addresses of a `From:` or `Sender:` header value (RFC 5322 `mailbox-list`, with
/// groups, display names, quoted strings, comments and folding), as the address
/// specifications a mail reader shows, for checking against the directory.
///
/// ```
/// "Smith, Alice" <alice@example.test> (work), bob@example.test
///     →  ["alice@example.test", "bob@example.test"]
/// ```
///
/// Unreadable values (an unclosed quote, comment or angle bracket, two angle addresses in
/// one mailbox, a mailbox without `@`) give `nil`: a message whose sender can't be read is
/// refused rather than guessed at.
public enum HeaderAddressList {
    /// The addresses in `value`, in order; `nil` when it can't be read.
    public static func parse(_ value: String) -> [String]? {
        var addresses: [String] = []
        var bare = ""            // the mailbox's text outside comments and angle brackets
        var angle: String?       // the text inside <...>, once seen
        var angleCount = 0
        var scalars = value.unicodeScalars.makeIterator()
        var inGroup = false

        func finishMailbox() -> Bool {
            defer { bare = ""; angle = nil; angleCount = 0 }
            if angleCount > 1 { return false }
            if let angle {
                // Drop an obsolete source route: <@relay,@relay2:user@host>.
                var address = Substring(angle)
                if address.hasPrefix("@"), let colon = address.firstIndex(of: ":") { address = address[address.index(after: colon)...] }
                let trimmed = address.trimmingWhitespace()
                guard hasUnquotedAt(trimmed) else { return false }
                addresses.append(trimmed)
                return true
            }
            let trimmed = Substring(bare).trimmingWhitespace()
            if trimmed.isEmpty { return true }   // an empty list element, allowed by RFC 5322's obsolete syntax
            guard hasUnquotedAt(trimmed), !trimmed.contains(where: { $0 == " " || $0 == "\t" }) else { return false }
            addresses.append(trimmed)
            return true
        }

        while let scalar = scalars.next() {
            switch scalar {
            case "(":
                // A comment, possibly nested; skipped, and stands for a space.
                var depth = 1
                while depth > 0 {
                    guard let next = scalars.next() else { return nil }
                    switch next {
                    case "\\": guard scalars.next() != nil else { return nil }
                    case "(": depth += 1
                    case ")": depth -= 1
                    default: break
                    }
                }
                bare.append(" ")
            case "\"":
                // A quoted string: part of a display name or of a local part.
                var quoted = "\""
                while true {
                    guard let next = scalars.next() else { return nil }
                    if next == "\\" {
                        guard let escaped = scalars.next() else { return nil }
                        quoted.unicodeScalars.append(next)
                        quoted.unicodeScalars.append(escaped)
                        continue
                    }
                    quoted.unicodeScalars.append(next)
                    if next == "\"" { break }
                }
                bare += quoted
            case "<":
                var inside = ""
                while true {
                    guard let next = scalars.next() else { return nil }
                    if next == ">" { break }
                    if next == "<" { return nil }
                    if next == "\"" {
                        // A quoted local part inside the brackets.
                        inside.unicodeScalars.append(next)
                        while true {
                            guard let quoted = scalars.next() else { return nil }
                            inside.unicodeScalars.append(quoted)
                            if quoted == "\\" {
                                guard let escaped = scalars.next() else { return nil }
                                inside.unicodeScalars.append(escaped)
                            } else if quoted == "\"" {
                                break
                            }
                        }
                        continue
                    }
                    inside.unicodeScalars.append(next)
                }
                angle = inside
                angleCount += 1
            case ">":
                return nil
            case ":" where angle == nil && !inGroup:
                // A group: its display name is dropped, its members follow.
                inGroup = true
                bare = ""
            case ";" where inGroup:
                guard finishMailbox() else { return nil }
                inGroup = false
            case ",":
                guard finishMailbox() else { return nil }
            case "\r", "\n":
                // Folding: the line end is part of the white space before the next line.
                bare.append(" ")
            default:
                if angle != nil, scalar != " ", scalar != "\t" {
                    // Text after an angle address other than white space or a comment.
                    return nil
                }
                bare.unicodeScalars.append(scalar)
            }
        }
        guard finishMailbox() else { return nil }
        return addresses
    }

    /// Whether `address` has an `@` outside its quoted strings: an `@` inside a quoted
    /// local part (`"a@b"`) separates nothing.
    static func hasUnquotedAt(_ address: String) -> Bool {
        var quoted = false
        var escaped = false
        for scalar in address.unicodeScalars {
            if escaped {
                escaped = false
            } else if quoted, scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                quoted.toggle()
            } else if scalar == "@", !quoted {
                return true
            }
        }
        return false
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
