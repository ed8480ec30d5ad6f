import DeputyServer
import NIOCore

/// One client's conversation on a mail-server listener, without any I/O: the connection
/// feeds it the bytes it receives and writes what it answers.
protocol MailAdapterConversation: Sendable {
    /// What to send as soon as the connection opens, if the protocol starts with the server.
    mutating func opening(into output: inout ByteBuffer)

    /// Consumes every complete request at the front of `input` and appends the replies to
    /// `output`; an incomplete request stays in `input` for the next call.
    ///
    /// - Returns: whether to keep the connection open once `output` is written.
    /// - Throws: ``MailAdapterError`` when the input can't be trusted any more; the
    ///   connection then writes what `output` already holds (replies to earlier, valid
    ///   requests) and closes.
    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition
}

extension MailAdapterConversation {
    mutating func opening(into output: inout ByteBuffer) {}
}

/// What a connection does after writing its replies.
enum MailAdapterDisposition: Sendable {
    case keepOpen
    case close
}
