import DeputyServer
import DeputyCore
import Logging
import NIOCore

/// Answers Postfix's tcp_table lookups for the one map its listener serves: `get KEY` lines
/// in, `200`/`500`/`400` lines out. `put` is refused: nothing changes through this listener.
struct TCPTableConversation: MailAdapterConversation {
    let map: MailMap
    let environment: MailAdapterEnvironment
    var lines: MailLineDecoder
    let logger: Logger
    /// The directory's version, kept while no other is published.
    var reader: DirectoryReader

    init(map: MailMap, environment: MailAdapterEnvironment, limits: MailAdapterLimits, logger: Logger) {
        self.map = map
        self.environment = environment
        self.lines = MailLineDecoder(maximumLength: limits.maximumRequestSize)
        self.logger = logger
        self.reader = DirectoryReader(environment.directory)
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let line = try lines.decode(&input) {
            answer(line.readableBytesView, in: reader.current()).encode(into: &output)
        }
        return .keepOpen
    }

    /// The reply to one request line, from `version`.
    func answer(_ line: ByteBufferView, in version: DirectoryVersion) -> TCPTableReply {
        switch TCPTableRequest(line: line) {
        case nil:
            return .notFound("malformed request")
        case .put:
            logger.warning("tcp_table put refused: this listener changes nothing")
            return .notFound("read-only table")
        case .get(let key):
            guard environment.isReady() else { return .temporaryFailure("directory not ready") }
            let answer = MailMapResolver.lookup(map, key: key, in: version.directory, at: environment.clock(), delimiter: environment.recipientDelimiter)
            logger.debug("tcp_table lookup", metadata: ["map.name": "\(map.rawValue)", "map.found": "\(answer != .notFound)"])
            ServerMetrics.adapterLookup(answer == .notFound ? .tcpTableNotFound : .tcpTableFound)
            return answer.value.map(TCPTableReply.found) ?? .notFound("not found")
        }
    }
}
