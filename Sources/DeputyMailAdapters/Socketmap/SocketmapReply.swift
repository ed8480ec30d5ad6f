import DeputyServer
import NIOCore

/// A socketmap reply, sent as one netstring.
public enum SocketmapReply: Hashable, Sendable {
    /// `OK <data>`: found.
    case ok(String)
    /// `NOTFOUND `: not found (the trailing space is part of the reply).
    case notFound
    /// `TEMP <reason>`: a temporary failure; Postfix defers.
    case temporaryFailure(String)
    /// `PERM <reason>`: a permanent failure, such as an unknown map.
    case permanentFailure(String)

    /// The payload, for example `OK boss@example.org`.
    public var payload: String {
        switch self {
        case .ok(let data): "OK \(data)"
        case .notFound: "NOTFOUND "
        case .temporaryFailure(let reason): "TEMP \(reason)"
        case .permanentFailure(let reason): "PERM \(reason)"
        }
    }

    /// Appends the reply as a netstring. A payload longer than Postfix accepts becomes a
    /// temporary failure rather than a cut list, which would deny someone by mistake.
    public func encode(into buffer: inout ByteBuffer) {
        let payload = self.payload
        if payload.utf8.count > MailAdapterDefaults.socketmapMaximumReplyLength {
            SocketmapReply.temporaryFailure("reply too long").encode(into: &buffer)
            return
        }
        NetstringDecoder.encode(payload.utf8, into: &buffer)
    }
}
