extension ReplyRecord {
    /// One `key=value` field of a data record.
    ///
    /// ```
    /// name="Alice Liddell"
    /// ```
    public struct Field: Hashable, Sendable {
        /// The key, matching `[A-Za-z0-9_-]+`; compared exactly (case-sensitive).
        public let key: String

        /// The value; any string, including empty and control characters.
        public var value: String

        /// Creates a field, or returns `nil` if `key` does not match `[A-Za-z0-9_-]+`.
        public init?(key: String, value: String) {
            guard WireByte.isValidKey(key) else { return nil }
            self.init(validatedKey: key, value: value)
        }

        init(validatedKey key: String, value: String) {
            self.key = key
            self.value = value
        }
    }
}
