extension DeputyClientConfiguration.Endpoint {
    /// Parses a `--server` style address.
    ///
    /// | Form                          | Meaning                                   |
    /// |-------------------------------|-------------------------------------------|
    /// | `host:port`                   | TLS to `host` on `port`                   |
    /// | `host`                        | TLS to `host` on 7636                     |
    /// | `[::1]:port`, `[::1]`         | TLS to an IPv6 address (7636 by default)  |
    /// | `::1`                         | TLS to an IPv6 address on 7636            |
    /// | `deputy://host[:port]`        | TLS, URI form                             |
    /// | `deputy+plain://host[:port]`  | plaintext TCP (loopback hosts only)       |
    /// | `unix:/path/to/socket`        | plaintext over a Unix socket              |
    ///
    /// A host is a DNS name (letters, digits, `-`, `_`, `.`) or an IP address; a port is
    /// 1 to 65535. A URI may end with a single `/`. User names and passwords (`user:pw@host`)
    /// are rejected, and the error message then does not repeat the address.
    ///
    /// - Throws: ``DeputyClientError`` with code `invalidEndpoint`.
    public init(parsing text: String) throws(DeputyClientError) {
        var text = Substring(text).drop { $0.isWhitespace }
        while let last = text.last, last.isWhitespace {
            text = text.dropLast()
        }
        guard !text.isEmpty else {
            throw .invalidEndpoint("the address is empty")
        }
        guard !text.contains("@") else {
            throw .invalidEndpoint("the address must not contain a user name or password")
        }
        let original = String(text)

        if text.lowercased().hasPrefix("unix:") {
            var path = text.dropFirst(5)
            if path.hasPrefix("//") {
                path = path.dropFirst(2)
            }
            guard !path.isEmpty else {
                throw .invalidEndpoint("'\(original)' has no socket path")
            }
            self = .unixSocket(path: String(path))
            return
        }

        var usesTLS = true
        if let schemeEnd = text.firstRange(of: "://") {
            switch text[..<schemeEnd.lowerBound].lowercased() {
            case "deputy": usesTLS = true
            case "deputy+plain": usesTLS = false
            default:
                throw .invalidEndpoint("'\(original)' has an unknown scheme; use deputy:// or deputy+plain://")
            }
            text = text[schemeEnd.upperBound...]
            if text.hasSuffix("/") {
                text = text.dropLast()
            }
        }
        let (host, port) = try Self.parseAuthority(text, original: original)
        self.init(address: .tcp(host: host, port: port), usesTLS: usesTLS)
    }

    private static func parseAuthority(_ text: Substring, original: String) throws(DeputyClientError) -> (String, Int) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .invalidEndpoint("'\(original)' has an unclosed '['")
            }
            let host = text[text.index(after: text.startIndex)..<close]
            guard host.contains(":"), host.allSatisfy(Self.isIPv6Character) else {
                throw .invalidEndpoint("'\(original)' has an invalid IPv6 address in brackets")
            }
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                return (String(host), Self.defaultPort)
            }
            guard rest.hasPrefix(":") else {
                throw .invalidEndpoint("'\(original)' has unexpected text after ']'")
            }
            return (String(host), try Self.parsePort(rest.dropFirst(), original: original))
        }

        guard let colon = text.firstIndex(of: ":") else {
            return (try Self.validatedHost(text, original: original), Self.defaultPort)
        }
        let afterColon = text[text.index(after: colon)...]
        if !afterColon.contains(":") {
            let host = try Self.validatedHost(text[..<colon], original: original)
            return (host, try Self.parsePort(afterColon, original: original))
        }
        // Several colons and no brackets: only an IPv6 address, which cannot carry a port.
        guard text.allSatisfy(Self.isIPv6Character) else {
            throw .invalidEndpoint("'\(original)' is not host:port; write IPv6 addresses as [address]:port")
        }
        return (String(text), Self.defaultPort)
    }

    private static func validatedHost(_ host: Substring, original: String) throws(DeputyClientError) -> String {
        guard !host.isEmpty else {
            throw .invalidEndpoint("'\(original)' has no host")
        }
        guard host.utf8.count <= 253, host.allSatisfy(Self.isHostCharacter) else {
            throw .invalidEndpoint("'\(original)' has an invalid host name")
        }
        return String(host)
    }

    private static func parsePort(_ text: Substring, original: String) throws(DeputyClientError) -> Int {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(text), (1...65_535).contains(port)
        else {
            throw .invalidEndpoint("'\(original)' has an invalid port; ports are 1 to 65535")
        }
        return port
    }

    private static func isHostCharacter(_ character: Character) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || character == "-" || character == "." || character == "_"
    }

    private static func isIPv6Character(_ character: Character) -> Bool {
        character.isHexDigit || character == ":" || character == "."
    }
}
