import NIOCore

extension ChannelHandlerContext {
    /// How long a connection's last reply may take to leave before the connection is closed
    /// anyway: a client that does not read, or is stuck in its TLS handshake (where nothing
    /// can be written at all), must not hold the connection, or a shutdown, open for ever.
    static let lastWriteGrace = TimeAmount.seconds(5)

    /// Writes `buffer` and flushes it, then closes the connection once it is written, or
    /// after ``lastWriteGrace`` at the latest.
    func writeThenClose(_ buffer: NIOAny) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let deadline = eventLoop.scheduleTask(in: Self.lastWriteGrace) { bound.value.close(promise: nil) }
        writeAndFlush(buffer).whenComplete { _ in
            deadline.cancel()
            bound.value.close(promise: nil)
        }
    }
}
