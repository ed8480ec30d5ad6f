import NIOCore

/// Closes a connection that stayed silent for the idle timeout, with a last `ERR limit` line.
final class IdleTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            var buffer = context.channel.allocator.buffer(capacity: 64)
            buffer.writeString("ERR limit idle timeout\n")
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
                bound.value.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
