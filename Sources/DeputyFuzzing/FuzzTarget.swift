import DeputyMailAdapters
import DeputyProtocol
import DeputyServer
import DeputyStore
import NIOCore

/// The parsers that read what a stranger sends or what a disk gives back, each as one fuzz
/// target. Every target must return for any input without crashing, and where a parser's
/// output can be written back, what it writes must read back the same.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A request line of the Deputy protocol, parsed, written back and parsed again.
    case request
    /// A reply line, as the client library reads it.
    case reply
    /// The request framing: lines cut at the length limit.
    case lines
    /// Postfix socketmap netstrings and the lookups inside them.
    case netstring
    /// Postfix tcp_table request lines.
    case tcpTable = "tcp-table"
    /// Postfix policy delegation attribute blocks.
    case policy
    /// Dovecot auth protocol lines.
    case dovecotAuth = "dovecot-auth"
    /// Dovecot dict protocol lines.
    case dovecotDict = "dovecot-dict"
    /// A journal file, recovered behind a valid empty start.
    case journal
    /// A snapshot file, loaded and checked.
    case snapshot

    /// Runs one input; a broken property stops the process (the fuzzer reports it).
    public func run(_ input: [UInt8]) {
        switch self {
        case .request: request(input)
        case .reply: _ = try? ReplyParser.parse(input)
        case .lines: lines(input)
        case .netstring: netstrings(input)
        case .tcpTable: mailLines(input) { _ = TCPTableRequest(line: $0) }
        case .policy: policy(input)
        case .dovecotAuth: mailLines(input) { _ = try? DovecotAuthCommand(line: $0) }
        case .dovecotDict: mailLines(input) { _ = try? DovecotDictCommand(line: $0) }
        case .journal: store(journal: input)
        case .snapshot: store(snapshot: input)
        }
    }

    private func request(_ input: [UInt8]) {
        guard let request = try? RequestParser.parse(input) else { return }
        let written = RequestEncoder.encode(request)
        guard let again = try? RequestParser.parse(written), again == request else {
            fatalError("a parsed request does not read back the same after writing it: \(written.debugDescription)")
        }
    }

    private func lines(_ input: [UInt8]) {
        let limit = 64
        var decoder = LineFrameDecoder(maximumLineLength: limit)
        var buffer = ByteBuffer(bytes: input)
        while let line = try? decoder.decode(buffer: &buffer) {
            precondition(line.readableBytes <= limit, "a line over the limit came through")
        }
    }

    private func netstrings(_ input: [UInt8]) {
        let decoder = NetstringDecoder(maximumLength: 256)
        var buffer = ByteBuffer(bytes: input)
        while let payload = try? decoder.decode(&buffer) {
            precondition(payload.readableBytes <= 256, "a netstring over the limit came through")
            _ = SocketmapRequest(payload: payload.readableBytesView)
        }
    }

    private func mailLines(_ input: [UInt8], _ parse: (ByteBufferView) -> Void) {
        var decoder = MailLineDecoder(maximumLength: 256)
        var buffer = ByteBuffer(bytes: input)
        while let line = try? decoder.decode(&buffer) {
            precondition(line.readableBytes <= 256, "a line over the limit came through")
            parse(line.readableBytesView)
        }
    }

    private func policy(_ input: [UInt8]) {
        var decoder = PolicyRequestDecoder(maximumBlockSize: 1_024)
        var buffer = ByteBuffer(bytes: input)
        while (try? decoder.decode(&buffer)) != nil {}
    }

    /// The store's recovery check on a simulated data directory holding `snapshot` and
    /// `journal` (either may be absent).
    private func store(snapshot: [UInt8]? = nil, journal: [UInt8]? = nil) {
        let disk = SimulatedFileSystem()
        do {
            try disk.createDirectory("/data", permissions: 0o700)
            for (name, bytes) in [("snapshot.json", snapshot), ("journal.log", journal)] {
                guard let bytes else { continue }
                let file = try disk.openForAppend("/data/\(name)", truncating: true)
                try disk.write(bytes, to: file)
                disk.close(file)
                try disk.setPermissions("/data/\(name)", 0o600)
            }
        } catch {
            fatalError("the simulated disk refused a write: \(error)")
        }
        _ = Store.check(path: "/data", fileSystem: disk)
    }
}
