extension VerbSyntax {
    /// The syntax of one verb, or of one (verb, subverb) pair such as `ADD USER`.
    public struct Entry: Hashable, Sendable {
        /// Turns a line that matched this entry into its typed request.
        typealias Decoder = @Sendable (Request.Arguments) throws(Request.DecodingError) -> Request

        /// The verb, uppercase, for example `ADD`.
        public var verb: String { storage.verb }

        /// The subverb keyword, uppercase, for example `USER`; `nil` for verbs without one.
        public var subverb: String? { storage.subverb }

        /// The positional arguments after the verb and subverb, in order.
        public var operands: [Operand] { storage.operands }

        /// The named arguments the entry accepts, in synopsis order.
        public var parameters: [Parameter] { storage.parameters }

        /// A one-line description, for `HELP`.
        public var summary: String { storage.summary }

        /// Whether the verb may be used before a successful `BIND`.
        public var allowedBeforeAuthentication: Bool { storage.allowedBeforeAuthentication }

        /// The full synopsis, for example `BIND <login> <password>`.
        public var synopsis: String { storage.synopsis }

        /// Whether the line may carry a password: an error about it then quotes nothing of
        /// it, since an unquoted password with `=` in it reads as a named argument.
        public var carriesSecrets: Bool {
            ["BIND", "REAUTH", "PASSWD"].contains(verb) || parameters.contains { $0.key == "password" }
        }

        /// The least number of positional arguments after the verb and subverb.
        public var minimumPositionals: Int { storage.minimumPositionals }

        /// The keys of the named arguments that must be present.
        public var requiredKeys: [String] { storage.requiredKeys }

        /// Everything the entry holds, in one object: every request finds its entry and
        /// passes it along, and copying a struct of eight strings, arrays and a closure
        /// retained and released each of them per request.
        private final class Storage: Sendable {
            let verb: String
            let subverb: String?
            let operands: [Operand]
            let parameters: [Parameter]
            let summary: String
            let allowedBeforeAuthentication: Bool
            let synopsis: String
            let minimumPositionals: Int
            let requiredKeys: [String]
            let decoder: Decoder
            /// Whether `revision=<n>` is accepted (``acceptingRevision()``): a flag rather
            /// than a closure around ``decoder``, whose context every request would share.
            let acceptsRevision: Bool

            init(
                verb: String, subverb: String?, operands: [Operand], parameters: [Parameter], allowedBeforeAuthentication: Bool, summary: String,
                acceptsRevision: Bool = false, decoder: @escaping Decoder
            ) {
                self.decoder = decoder
                self.acceptsRevision = acceptsRevision
                self.verb = verb
                self.subverb = subverb
                self.operands = operands
                self.parameters = parameters
                self.summary = summary
                self.allowedBeforeAuthentication = allowedBeforeAuthentication
                // Worked out once: every request is checked against them.
                self.minimumPositionals = operands.count { !$0.isOptional }
                self.requiredKeys = parameters.filter(\.isRequired).map(\.key)
                self.synopsis = ([verb] + (subverb.map { [$0] } ?? []) + operands.map(\.synopsis) + parameters.map(\.synopsis))
                    .joined(separator: " ")
            }

            /// A copy of `other` sharing no object with it that a request reads.
            init(copying other: Storage) {
                // `map` makes new array storage; strings are copied into new storage below.
                verb = String(decoding: Array(other.verb.utf8), as: UTF8.self)
                subverb = other.subverb.map { String(decoding: Array($0.utf8), as: UTF8.self) }
                operands = other.operands.map { $0 }
                parameters = other.parameters.map { $0 }
                summary = other.summary
                allowedBeforeAuthentication = other.allowedBeforeAuthentication
                synopsis = other.synopsis
                minimumPositionals = other.minimumPositionals
                requiredKeys = other.requiredKeys.map { $0 }
                decoder = other.decoder
                acceptsRevision = other.acceptsRevision
            }
        }

        private let storage: Storage

        private init(storage: Storage) {
            self.storage = storage
        }

        /// The same entry in objects of its own: what a connection keeps for the verbs it
        /// uses (``VerbSyntax/RecentEntries``), so that its requests count references only
        /// on objects no other thread touches.
        func privateCopy() -> Entry {
            Entry(storage: Storage(copying: storage))
        }

        init(
            verb: String,
            subverb: String? = nil,
            operands: [Operand] = [],
            parameters: [Parameter] = [],
            allowedBeforeAuthentication: Bool = false,
            summary: String,
            decode: @escaping Decoder
        ) {
            storage = Storage(
                verb: verb, subverb: subverb, operands: operands, parameters: parameters, allowedBeforeAuthentication: allowedBeforeAuthentication,
                summary: summary, decoder: decode
            )
        }

        public static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.verb == rhs.verb && lhs.subverb == rhs.subverb
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(verb)
            hasher.combine(subverb)
        }

        /// Decodes `line`, whose shape ``VerbSyntax/check(_:)`` matched to this entry, into its
        /// typed request; fails when a value is not acceptable (an address that is not one,
        /// a role that does not exist).
        public func decode(_ line: RequestLine) throws(Request.DecodingError) -> Request {
            let arguments = Request.Arguments(line, entry: self)
            let request = try storage.decoder(arguments)
            guard storage.acceptsRevision, let text = arguments.named("revision") else { return request }
            guard text.utf8.count <= 20, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let revision = UInt64(text) else {
                throw Request.DecodingError(.syntax, "revision must be a number, the revision a change was answered with")
            }
            return .atRevision(revision, request)
        }

        /// The same entry, also accepting `revision=<n>`: the request is then answered once
        /// the server has reached that revision (``Request/atRevision(_:_:)``).
        func acceptingRevision() -> Entry {
            Entry(
                storage: Storage(
                    verb: verb, subverb: subverb, operands: operands, parameters: parameters + [.text("revision", "n")],
                    allowedBeforeAuthentication: allowedBeforeAuthentication, summary: summary, acceptsRevision: true, decoder: storage.decoder
                )
            )
        }

        // MARK: - Derived

        /// The verb and subverb, for example `ADD USER` or `PING`.
        public var name: String {
            self.subverb.map { "\(self.verb) \($0)" } ?? self.verb
        }

        /// The greatest number of positional arguments after the verb and subverb.
        public var maximumPositionals: Int {
            self.operands.count
        }

        /// The keys of all accepted named arguments.
        public var allowedKeys: [String] {
            self.parameters.map(\.key)
        }

        /// The parameter for `key`, if the entry accepts it.
        public func parameter(for key: String) -> Parameter? {
            self.parameters.first { $0.key == key }
        }

        /// The positional arguments of `request` after the subverb keyword, in order.
        ///
        /// ```
        /// ADD USER alice@example.org   ->   ["alice@example.org"]
        /// ```
        public func operands(of request: RequestLine) -> [String] {
            // One pass and one array: this runs for every request.
            var operands: [String] = []
            operands.reserveCapacity(request.arguments.count)
            var skip = self.subverb == nil ? 0 : 1
            for case .positional(let value) in request.arguments {
                if skip > 0 {
                    skip -= 1
                } else {
                    operands.append(value)
                }
            }
            return operands
        }

        /// The `HELP` data record for this entry:
        ///
        /// ```
        /// * verb=ADD subverb=USER synopsis="ADD USER <address> ..." summary="..." preauth=no
        /// ```
        public var helpRecord: ReplyRecord {
            var record = ReplyRecord()
            record.append(key: "verb", value: self.verb)
            if let subverb = self.subverb {
                record.append(key: "subverb", value: subverb)
            }
            record.append(key: "synopsis", value: self.synopsis)
            record.append(key: "summary", value: self.summary)
            record.append(key: "preauth", value: self.allowedBeforeAuthentication ? "yes" : "no")
            return record
        }
    }
}
