extension RequestLine {
    /// One argument of a request.
    ///
    /// ```
    /// QUERY SEARCH "(mail=*@example.org)" limit=50
    /// ```
    ///
    /// has `.positional("SEARCH")`, `.positional("(mail=*@example.org)")` and
    /// `.named(key: "limit", value: "50")`.
    public enum Argument: Hashable, Sendable {
        /// A bare token or quoted string, for example `alice` or `"Alice Liddell"`.
        case positional(String)
        /// A `key=value` pair, for example `name="Alice Liddell"`; `key=` has an empty value.
        case named(key: String, value: String)
    }
}
