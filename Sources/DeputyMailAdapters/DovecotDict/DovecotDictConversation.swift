import DeputyServer
import DeputyCore
import Logging
import NIOCore

/// Serves ``SharedMailboxMap`` to Dovecot's `proxy` dict driver, read-only.
///
/// The client opens with a hello (`H3…` from Dovecot 2.3, `H4…` from 2.4, which is
/// otherwise the same protocol) and gets no reply to it. Lookups answer `O<value>`, `N`
/// (not found) or `F<error>`; an iteration answers one `O<key>\t<value>` row per key and
/// an empty line. Transactions may be opened and filled, but every commit fails: a mail
/// server can change nothing here.
struct DovecotDictConversation: MailAdapterConversation {
    /// The major versions understood.
    static let supportedMajorVersions = 3...4

    let environment: MailAdapterEnvironment
    let logger: Logger
    var lines: MailLineDecoder
    private var greeted = false
    /// Open transactions, by id, with whether they tried to change anything.
    private var transactions: [String: Bool] = [:]
    /// The directory's version, kept while no other is published.
    private var reader: DirectoryReader

    init(environment: MailAdapterEnvironment, limits: MailAdapterLimits, logger: Logger) {
        self.environment = environment
        self.logger = logger
        self.lines = MailLineDecoder(maximumLength: limits.maximumRequestSize)
        self.reader = DirectoryReader(environment.directory)
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let line = try lines.decode(&input) {
            try handle(DovecotDictCommand(line: line.readableBytesView), into: &output)
        }
        return .keepOpen
    }

    /// Handles one command, appending its reply lines (if it has any) to `output`.
    mutating func handle(_ command: DovecotDictCommand, into output: inout ByteBuffer) throws(MailAdapterError) {
        if case .hello(let major, _, _, let name) = command {
            guard Self.supportedMajorVersions.contains(major) else {
                throw MailAdapterError(.unsupportedVersion, "the dict client speaks major version \(major)")
            }
            greeted = true
            logger.debug("dict hello", metadata: ["dict.name": "\(name.prefix(64))", "dict.version": "\(major)"])
            return
        }
        guard greeted else { throw .malformed("the dict client did not start with a hello") }
        switch command {
        case .hello:
            break
        case .lookup(let key):
            guard environment.isReady() else { return write(["Fdirectory not ready"], into: &output) }
            let value = SharedMailboxMap.lookup(key, in: reader.current().directory, at: environment.clock())
            write([value.map { "O" + DovecotTabEscaping.escape($0) } ?? "N"], into: &output)
            ServerMetrics.adapterLookup(value == nil ? .dovecotDictNotFound : .dovecotDictFound)
        case .iterate(let flags, let maximumRows, let path):
            guard environment.isReady() else { return write(["Fdirectory not ready"], into: &output) }
            let limit = maximumRows == 0 ? MailAdapterDefaults.dictMaximumIterationRows : min(maximumRows, MailAdapterDefaults.dictMaximumIterationRows)
            let rows = SharedMailboxMap.iterate(path, flags: flags, limit: limit, in: reader.current().directory, at: environment.clock())
            let lines = rows.map { row in
                "O" + DovecotTabEscaping.escape(row.key) + "\t" + (flags.contains(.noValue) ? "" : DovecotTabEscaping.escape(row.value))
            }
            write(lines + [""], into: &output)
        case .begin(let id):
            guard transactions.count < MailAdapterDefaults.dictMaximumOpenTransactions else {
                throw .overLimit("more than \(MailAdapterDefaults.dictMaximumOpenTransactions) dict transactions open")
            }
            transactions[id] = false
        case .change(let letter, let id):
            // As Dovecot's own dict server: a change names a transaction begun with `B`, or
            // the connection ends (each id is memory the `B` limit would not bound).
            guard let changed = transactions[id] else { throw .malformed("a change in transaction \(id.prefix(32)), which was not begun") }
            if !changed {
                logger.warning("dict change refused: this listener is read-only", metadata: ["dict.command": "\(letter)"])
            }
            transactions[id] = true
        case .commit(let id):
            transactions[id] = nil
            write(["F" + DovecotTabEscaping.line([id, "read-only dict: Deputy's directory is changed through Deputy only"])], into: &output)
        case .rollback(let id):
            transactions[id] = nil
        }
    }

    private func write(_ lines: [String], into output: inout ByteBuffer) {
        for line in lines {
            output.writeString(line)
            output.writeInteger(UInt8(ascii: "\n"))
        }
    }
}
