/// A mail address, stored in lowercase so that matching is case-insensitive.
///
/// Validation keeps out anything a mail server could not route or that would need quoting:
/// one `@`, a non-empty local part of printable ASCII without spaces, quotes, commas or
/// angle brackets, and a domain of dot-separated labels.
///
/// ```swift
/// EmailAddress("Boss@Example.ORG")?.value == "boss@example.org"
/// EmailAddress("not an address") == nil
/// ```
public struct EmailAddress: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The address in lowercase, for example `alice@acme.test`.
    public let value: String

    /// The longest address accepted, as in RFC 5321's path limit.
    public static let maximumLength = 254

    /// Creates an address from text, or returns `nil` when the text is not a valid address.
    public init?(_ text: some StringProtocol) {
        var value = String(text)
        // Most addresses arrive in lowercase already (snapshots, journals, mail servers), and
        // lowercasing copies the string: do it only when a byte could change.
        if value.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || $0 >= 0x80 }) {
            value = value.lowercased()
        }
        guard Self.isValid(value) else { return nil }
        self.value = value
    }

    /// Wraps text already known to be a valid lowercase address (held by the directory).
    init(trusted value: String) {
        self.value = value
    }

    /// The part before the `@`.
    public var localPart: Substring {
        value[..<value.lastIndex(of: "@")!]
    }

    /// The part after the `@`.
    public var domain: Substring {
        value[value.index(after: value.lastIndex(of: "@")!)...]
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = EmailAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a valid mail address")
            )
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool {
        lhs.value < rhs.value
    }

    public var description: String { value }

    // MARK: - Validation

    static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid(bytes: $0) }
    }

    private static func isValid(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= maximumLength, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else {
            return false
        }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64 else { return false }
        for byte in local {
            guard isLocalPartByte(byte) else { return false }
        }
        return DomainName.isValid(domain)
    }

    private static func isLocalPartByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: "'"), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
            UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "/"),
            UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "{"),
            UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// A mail domain such as `acme.test`, stored in lowercase.
public struct DomainName: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The domain in lowercase.
    public let value: String

    /// Creates a domain from text, or returns `nil` when it is not a valid host name.
    public init?(_ text: some StringProtocol) {
        let lowered = text.lowercased()
        guard Self.isValid(lowered.utf8[...]) else { return nil }
        self.value = lowered
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let domain = DomainName(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a valid domain")
            )
        }
        self = domain
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.value < rhs.value }

    public var description: String { value }

    /// The domain as LDAP `dc=` components, for example `dc=acme,dc=test`.
    public var distinguishedNameSuffix: String {
        value.split(separator: ".").map { "dc=\($0)" }.joined(separator: ",")
    }

    static func isValid<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var labelLength = 0
        var labels = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."):
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labels += 1
                labelLength = 0
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                labelLength += 1
            case UInt8(ascii: "-"):
                guard labelLength > 0 else { return false }
                labelLength += 1
            default:
                return false
            }
            guard labelLength <= 63 else { return false }
            previous = byte
        }
        guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
        return labels >= 1
    }
}
