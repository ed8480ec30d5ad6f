/// One request line: a verb followed by positional and named arguments, in wire order.
///
/// ```
/// ADD USER alice@example.org name="Alice Liddell" policy=staff
/// ```
///
/// parses to verb `ADD` with arguments `.positional("USER")`, `.positional("alice@example.org")`,
/// `.named(key: "name", value: "Alice Liddell")` and `.named(key: "policy", value: "staff")`.
///
/// Invariants, enforced by the initialisers and the parser: the verb is a non-empty ASCII
/// alphanumeric word in uppercase; keys match `[a-z0-9_-]+` (lowercased); no key repeats.
/// Values are arbitrary strings.
public struct RequestLine: Hashable, Sendable {
    /// The verb, uppercased, for example `BIND`.
    public let verb: String

    /// The arguments in the order they appeared on the line.
    public let arguments: [Argument]

    /// Creates a request, normalising the verb to uppercase and keys to lowercase.
    ///
    /// Returns `nil` if the verb is not an ASCII alphanumeric word, a key is not made of
    /// `[A-Za-z0-9_-]`, or two keys are equal ignoring case.
    public init?(verb: String, arguments: [Argument] = []) {
        guard WireByte.isValidVerb(verb) else { return nil }
        var normalised: [Argument] = []
        normalised.reserveCapacity(arguments.count)
        var seenKeys = Set<String>()
        for argument in arguments {
            switch argument {
            case .positional:
                normalised.append(argument)
            case .named(let key, let value):
                guard WireByte.isValidKey(key) else { return nil }
                let key = WireByte.asciiLowercased(key)
                guard seenKeys.insert(key).inserted else { return nil }
                normalised.append(.named(key: key, value: value))
            }
        }
        self.init(validatedVerb: WireByte.asciiUppercased(verb), arguments: normalised)
    }

    /// Creates a request from positional arguments followed by named ones.
    ///
    /// ```swift
    /// RequestLine(verb: "PASSWD", positionals: ["alice"], named: ["new": "s3cret"])
    /// ```
    public init?(verb: String, positionals: [String] = [], named: KeyValuePairs<String, String> = [:]) {
        let arguments = positionals.map(Argument.positional) + named.map { Argument.named(key: $0.key, value: $0.value) }
        self.init(verb: verb, arguments: arguments)
    }

    /// Creates a request whose invariants the caller has already established.
    init(validatedVerb verb: String, arguments: [Argument]) {
        self.verb = verb
        self.arguments = arguments
    }

    // MARK: - Conveniences

    /// The positional arguments, in order, including any subverb keyword.
    public var positionals: [String] {
        self.arguments.compactMap { argument in
            if case .positional(let value) = argument { return value }
            return nil
        }
    }

    /// The value of the named argument `key` (matched ignoring ASCII case), or `nil` if absent.
    public func named(_ key: String) -> String? {
        let key = WireByte.asciiLowercased(key)
        for case .named(let candidate, let value) in self.arguments where candidate == key {
            return value
        }
        return nil
    }

    /// The named arguments, in order.
    public var namedArguments: [(key: String, value: String)] {
        self.arguments.compactMap { argument in
            if case .named(let key, let value) = argument { return (key, value) }
            return nil
        }
    }
}

extension RequestLine: CustomStringConvertible {
    /// The verb and the number of arguments only, so that logging a request can never leak a
    /// password; for example `BIND (2 arguments)`.
    public var description: String {
        let count = self.arguments.count
        return "\(self.verb) (\(count) argument\(count == 1 ? "" : "s"))"
    }
}
