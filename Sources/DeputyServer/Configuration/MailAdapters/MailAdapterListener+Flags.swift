extension MailAdapterListener {
    /// Parses the `ADDRESS` of a listener flag such as `--socketmap ADDRESS`: `HOST:PORT`,
    /// `[IPv6]:PORT`, or an absolute Unix socket path. `nil` when it is neither.
    ///
    /// ```
    /// address("127.0.0.1:7640")   == .tcp(host: "127.0.0.1", port: 7640)
    /// address("/run/deputy/dict") == .unix(path: "/run/deputy/dict")
    /// ```
    public static func address(_ text: String) -> ListenAddress? {
        if text.hasPrefix("/") { return text.count > 1 ? .unix(path: text) : nil }
        return ListenAddress(hostAndPort: text)
    }

    /// Parses `--tcp-table MAP=ADDRESS`, for example `senders=127.0.0.1:7643`. `nil` for an
    /// unknown map or a bad address.
    public static func tcpTable(_ text: String, limits: MailAdapterLimits = MailAdapterLimits()) -> MailAdapterListener? {
        guard let equals = text.firstIndex(of: "="), let map = MailMap(rawValue: String(text[..<equals])),
            let address = address(String(text[text.index(after: equals)...]))
        else { return nil }
        return MailAdapterListener(kind: .tcpTable(map), address: address, limits: limits)
    }
}
