/// One data line of a reply: an ordered list of `key=value` fields.
///
/// ```
/// * dn="uid=alice,ou=people,dc=example,dc=org" mail=alice@example.org name="Alice Liddell"
/// ```
///
/// Keys match `[A-Za-z0-9_-]+` and may repeat (for example one `member=` field per member);
/// values are arbitrary strings, quoted and escaped on the wire as needed.
///
/// ```swift
/// var record: ReplyRecord = ["mail": "alice@example.org"]
/// record.append(key: "member", value: "staff@example.org")
/// ```
public struct ReplyRecord: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    /// The fields in wire order.
    public var fields: [Field]

    /// Creates an empty record.
    public init() {
        self.fields = []
    }

    /// Creates a record from already validated fields.
    public init(fields: [Field]) {
        self.fields = fields
    }

    /// Creates a record from literal key/value pairs, in order.
    ///
    /// Keys are part of the protocol vocabulary, so an invalid literal key is a programming
    /// error and traps.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = []
        self.fields.reserveCapacity(elements.count)
        for (key, value) in elements {
            self.append(key: key, value: value)
        }
    }

    // MARK: - Building

    /// Appends a field.
    ///
    /// - Precondition: `key` matches `[A-Za-z0-9_-]+`. Use ``Field/init(key:value:)`` to check
    ///   keys that come from data.
    public mutating func append(key: String, value: String) {
        guard let field = Field(key: key, value: value) else {
            preconditionFailure("invalid reply record key")
        }
        self.fields.append(field)
    }

    /// Appends a field.
    public mutating func append(_ field: Field) {
        self.fields.append(field)
    }

    // MARK: - Reading

    /// The value of the first field named `key`, or `nil`.
    public subscript(key: String) -> String? {
        self.fields.first { $0.key == key }?.value
    }

    /// The values of every field named `key`, in order.
    public func values(for key: String) -> [String] {
        self.fields.compactMap { $0.key == key ? $0.value : nil }
    }

    /// Whether the record has no fields.
    public var isEmpty: Bool {
        self.fields.isEmpty
    }
}
