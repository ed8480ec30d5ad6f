import DeputyServer
import DeputyCore
import Logging
import NIOCore

/// Answers Postfix's socketmap lookups: netstrings `NAME KEY` in, netstrings out, many per
/// connection. Every ``MailMap`` is served under its name.
struct SocketmapConversation: MailAdapterConversation {
    let environment: MailAdapterEnvironment
    let decoder: NetstringDecoder
    let logger: Logger
    /// The directory's version, kept while no other is published.
    var reader: DirectoryReader

    init(environment: MailAdapterEnvironment, limits: MailAdapterLimits, logger: Logger) {
        self.environment = environment
        self.decoder = NetstringDecoder(maximumLength: limits.maximumRequestSize)
        self.logger = logger
        self.reader = DirectoryReader(environment.directory)
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let payload = try decoder.decode(&input) {
            answer(payload.readableBytesView, in: reader.current()).encode(into: &output)
        }
        return .keepOpen
    }

    /// The reply to one request payload, from `version`.
    func answer(_ payload: ByteBufferView, in version: DirectoryVersion) -> SocketmapReply {
        guard let request = SocketmapRequest(payload: payload) else {
            return .permanentFailure("malformed request")
        }
        // Map names are case-sensitive in Postfix's configuration, and so here.
        guard let map = MailMap(rawValue: request.name) else {
            logger.info("socketmap request for an unknown map", metadata: ["map.name": "\(request.name.prefix(64))"])
            return .permanentFailure("unknown map")
        }
        guard environment.isReady() else { return .temporaryFailure("directory not ready") }
        let answer = MailMapResolver.lookup(map, key: request.key, in: version.directory, at: environment.clock(), delimiter: environment.recipientDelimiter)
        logger.debug("socketmap lookup", metadata: ["map.name": "\(map.rawValue)", "map.found": "\(answer != .notFound)"])
        ServerMetrics.adapterLookup(answer == .notFound ? .socketmapNotFound : .socketmapFound)
        return answer.value.map(SocketmapReply.ok) ?? .notFound
    }
}
