/// The syntax of every verb of the protocol, used for `HELP` and to check a request's shape
/// before it is dispatched.
///
/// ```swift
/// switch VerbSyntax.check(request) {
/// case .success(let entry):
///     guard authenticated || entry.allowedBeforeAuthentication else { ... ERR auth ... }
///     dispatch(entry.name, entry.operands(of: request), request)
/// case .failure(let error):
///     reply(.error(code: error.errorCode, text: error.message))
/// }
/// ```
///
/// Verbs are matched exactly (``RequestLine`` verbs are already uppercase); subverbs, the first
/// positional argument of `ADD`, `DELETE`, `MODIFY` and `QUERY`, ignoring ASCII case.
public enum VerbSyntax {
    // MARK: - Lookup

    /// Every verb that exists, in table order, without duplicates.
    public static let verbs: [String] = {
        var seen = Set<String>()
        return Self.entries.map(\.verb).filter { seen.insert($0).inserted }
    }()

    private static let entriesByVerb: [String: [Entry]] = Dictionary(grouping: Self.entries, by: \.verb)

    /// The entries of `verb` (case-insensitive): one, or one per subverb; empty if unknown.
    public static func entries(for verb: String) -> [Entry] {
        Self.entriesByVerb[WireByte.asciiUppercased(verb)] ?? []
    }

    /// The entry for `verb` and `subverb` (both case-insensitive), if it exists.
    public static func entry(verb: String, subverb: String? = nil) -> Entry? {
        let subverb = subverb.map(WireByte.asciiUppercased)
        return Self.entries(for: verb).first { $0.subverb == subverb }
    }

    /// The entries `HELP` lists: all of them for `nil`, else those of one verb, or `nil` when
    /// `topic` is not a verb.
    public static func help(topic: String?) -> [Entry]? {
        guard let topic else { return Self.entries }
        let entries = Self.entries(for: topic)
        return entries.isEmpty ? nil : entries
    }

    // MARK: - Checking

    /// Finds the entry for `request` and checks its shape against it.
    ///
    /// Fails with kind
    /// - ``ProtocolError/Kind/unknownVerb`` or ``ProtocolError/Kind/unknownSubverb``
    ///   (wire code `unknown`) when there is no entry;
    /// - ``ProtocolError/Kind/missingSubverb``, ``ProtocolError/Kind/wrongArity``,
    ///   ``ProtocolError/Kind/disallowedKey``, ``ProtocolError/Kind/invalidValue`` or
    ///   ``ProtocolError/Kind/missingRequiredKey`` (wire code `syntax`) when the request does
    ///   not match; these messages end with `usage: <synopsis>`.
    ///
    /// Whether the session is authenticated is not checked here; see
    /// ``Entry/allowedBeforeAuthentication``.
    public static func check(_ request: RequestLine) -> Result<Entry, ProtocolError> {
        var recent = RecentEntries(capacity: 0)
        return check(request, recent: &recent)
    }

    /// ``check(_:)``, looking first among the entries `recent` holds, and remembering there
    /// the entry found: one connection's requests then touch only its own copies of the
    /// table's entries, never the objects every connection's thread shares.
    public static func check(_ request: RequestLine, recent: inout RecentEntries) -> Result<Entry, ProtocolError> {
        var positionalCount = 0
        var subverbKeyword: String? = nil
        for case .positional(let value) in request.arguments {
            if positionalCount == 0 { subverbKeyword = value }
            positionalCount += 1
        }
        let entry: Entry
        if let known = recent.entry(verb: request.verb, subverbKeyword: subverbKeyword) {
            entry = known
        } else {
            switch lookUp(request.verb, subverbKeyword: subverbKeyword) {
            case .success(let found):
                entry = found
                recent.remember(found)
            case .failure(let error):
                return .failure(error)
            }
        }
        if entry.subverb != nil { positionalCount -= 1 }

        guard positionalCount >= entry.minimumPositionals, positionalCount <= entry.maximumPositionals else {
            return .failure(ProtocolError(.wrongArity(synopsis: entry.synopsis)))
        }
        for case .named(let key, let value) in request.arguments {
            guard let parameter = entry.parameter(for: key) else {
                return .failure(ProtocolError(.disallowedKey(key: entry.carriesSecrets ? nil : key, synopsis: entry.synopsis)))
            }
            guard parameter.accepts(value) else {
                return .failure(
                    ProtocolError(.invalidValue(key: key, expected: parameter.expectation, synopsis: entry.synopsis))
                )
            }
        }
        for key in entry.requiredKeys where request.named(key) == nil {
            return .failure(ProtocolError(.missingRequiredKey(key: key, synopsis: entry.synopsis)))
        }
        return .success(entry)
    }

    /// The table's entry for `verb` and the first positional argument, `subverbKeyword`.
    private static func lookUp(_ verb: String, subverbKeyword: String?) -> Result<Entry, ProtocolError> {
        guard let candidates = Self.entriesByVerb[verb] else {
            return .failure(ProtocolError(.unknownVerb(verb)))
        }
        if candidates[0].subverb == nil { return .success(candidates[0]) }
        guard let keyword = subverbKeyword else {
            return .failure(ProtocolError(.missingSubverb(verb: verb, choices: candidates.compactMap(\.subverb))))
        }
        let uppercased = WireByte.asciiUppercased(keyword)
        guard let match = candidates.first(where: { $0.subverb == uppercased }) else {
            return .failure(ProtocolError(.unknownSubverb(verb: verb, subverb: keyword)))
        }
        return .success(match)
    }

    /// The entries one connection's requests matched lately, each a copy of its own
    /// (``check(_:recent:)``).
    ///
    /// Every request finds its entry and passes it along; an entry of the shared table costs
    /// a reference count on the same object from every thread, and the table's lookup hashes
    /// the verb and counts references on the table itself. On many cores those writes to
    /// shared memory cost more than answering. A connection uses few verbs: its own copies
    /// of them, found by comparing a few short strings, touch nothing another thread does.
    public struct RecentEntries: Sendable {
        /// The entries, oldest first.
        private var entries: [Entry] = []
        private let capacity: Int

        /// An empty set that keeps at most `capacity` entries.
        public init(capacity: Int = 8) {
            self.capacity = capacity
            entries.reserveCapacity(capacity)
        }

        /// The kept entry for `verb` (uppercase) and `subverbKeyword` (any case), if any.
        func entry(verb: String, subverbKeyword: String?) -> Entry? {
            for entry in entries where entry.verb == verb {
                guard let subverb = entry.subverb else { return entry }
                if let keyword = subverbKeyword, WireByte.equalIgnoringASCIICase(keyword, subverb) { return entry }
            }
            return nil
        }

        /// Keeps a copy of `entry`, dropping the oldest when full.
        mutating func remember(_ entry: Entry) {
            guard capacity > 0 else { return }
            if entries.count >= capacity { entries.removeFirst() }
            entries.append(entry.privateCopy())
        }
    }
}
