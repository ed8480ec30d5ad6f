/// A line from a Dovecot dict client (the `proxy` driver): a one-letter command followed
/// directly by tab-separated, tab-escaped fields.
///
/// ```
/// H3	2	0		acl                          hello: major 3, minor 2, value type, user, dict name
/// Lshared/shared-boxes/user/bob@x.test/alice@x.test	bob@x.test
/// I0	0	shared/shared-boxes/user/bob@x.test/	bob@x.test
/// B1 / S1	key	value / U1	key / A1	key	2 / C1 / R1
/// ```
public enum DovecotDictCommand: Hashable, Sendable {
    /// `H<major> <minor> <value type> <user> <dict name>`.
    case hello(major: Int, minor: Int, user: String, name: String)
    /// `L<key> [user]`.
    case lookup(key: String)
    /// `I<flags> <max rows> <path> [user]`.
    case iterate(flags: IterationFlags, maximumRows: Int, path: String)
    /// `B<id>`: begins a transaction.
    case begin(id: String)
    /// `S` (set), `U` (unset), `A` (atomic increment) or `T` (timestamp) inside a
    /// transaction: changes, refused at commit. The letter is kept for logs.
    case change(command: Character, id: String)
    /// `C<id>` or `D<id>` (asynchronous): commits a transaction.
    case commit(id: String)
    /// `R<id>`: rolls a transaction back.
    case rollback(id: String)

    /// The flags of an iteration, as Dovecot's `enum dict_iterate_flags` numbers them.
    public struct IterationFlags: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Keys below the path at any depth, not only its direct children.
        public static let recurse = IterationFlags(rawValue: 0x01)
        /// Rows sorted by key.
        public static let sortByKey = IterationFlags(rawValue: 0x02)
        /// Rows sorted by value.
        public static let sortByValue = IterationFlags(rawValue: 0x04)
        /// Keys only.
        public static let noValue = IterationFlags(rawValue: 0x08)
        /// The path is a whole key.
        public static let exactKey = IterationFlags(rawValue: 0x10)
    }

    /// Parses a line without its terminator.
    ///
    /// - Throws: ``MailAdapterError`` for an empty line, an unknown command, or a command
    ///   without the fields it needs.
    public init(line: some Collection<UInt8>) throws(MailAdapterError) {
        guard let letter = line.first else { throw .malformed("an empty dict command") }
        let fields = DovecotTabEscaping.fields(of: line.dropFirst())
        func field(_ index: Int) -> String? { index < fields.count ? fields[index] : nil }
        switch UnicodeScalar(letter) {
        case "H":
            guard let major = field(0).flatMap({ Int($0) }), let minor = field(1).flatMap({ Int($0) }) else {
                throw .malformed("a dict hello needs a major and a minor version")
            }
            self = .hello(major: major, minor: minor, user: field(3) ?? "", name: field(4) ?? "")
        case "L":
            self = .lookup(key: fields[0])
        case "I":
            guard let flags = field(0).flatMap({ Int($0) }), let rows = field(1).flatMap({ Int($0) }), rows >= 0, let path = field(2) else {
                throw .malformed("a dict iteration needs flags, a row count and a path")
            }
            self = .iterate(flags: IterationFlags(rawValue: flags), maximumRows: rows, path: path)
        case "B":
            self = .begin(id: fields[0])
        case "C", "D":
            self = .commit(id: fields[0])
        case "R":
            self = .rollback(id: fields[0])
        case "S", "U", "A", "T":
            self = .change(command: Character(UnicodeScalar(letter)), id: fields[0])
        default:
            throw .malformed("an unknown dict command")
        }
    }
}
