import DeputyProtocol
import NIOCore

/// The script a ``ScriptedServer`` connection follows.
///
/// | RequestLine          | Answer                                                        |
/// |------------------|---------------------------------------------------------------|
/// | `PING`           | `OK pong`                                                     |
/// | `ECHO <arg>`     | `* value=<arg>` then `OK`                                     |
/// | `BIND hangup pw` | `* partial=1`, then the connection is closed mid-reply        |
/// | `BIND hold pw`   | nothing, and nothing more on this connection                  |
/// | `BIND <l> <pw>`  | `OK bound` if `pw` is `right`, else `ERR auth bad credentials`|
/// | `HANGUP`         | `* partial=1`, then the connection is closed mid-reply        |
/// | `HOLD`           | nothing, and nothing more on this connection                  |
/// | `BIG <n>`        | one data line `* value=xxx...` of `n` bytes of value, `OK`    |
/// | `MANY <n>`       | `n` data lines, then `OK`                                     |
/// | `QUIT`           | `OK bye`, then the connection is closed                       |
/// | anything else    | `ERR unknown unknown verb <VERB>`                             |
final class ScriptedServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ScriptedServer
    private var holding = false

    init(server: ScriptedServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting = self.server.greeting {
            // Written before the TLS handshake ends; the TLS handler sends it once it can.
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: greeting + "\n")), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = self.unwrapInboundIn(data)
        self.server.record(String(buffer: line))
        guard !self.holding else { return }
        guard let request = try? RequestParser.parse(line) else {
            self.send("ERR syntax bad line\n", context: context)
            return
        }
        let arguments = request.positionals
        switch (request.verb, arguments.count) {
        case ("PING", 0):
            self.send("OK pong\n", context: context)
        case ("ECHO", 1):
            var buffer = context.channel.allocator.buffer(capacity: 64)
            ReplyEncoder.write(["value": arguments[0]] as ReplyRecord, into: &buffer)
            ReplyEncoder.write(ReplyStatus.ok(text: nil), into: &buffer)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case ("BIND", 2) where arguments[0] == "hangup", ("HANGUP", 0):
            self.send("* partial=1\n", context: context)
            context.close(promise: nil)
        case ("BIND", 2) where arguments[0] == "hold", ("HOLD", 0):
            self.holding = true
        case ("BIND", 2):
            self.send(arguments[1] == "right" ? "OK bound\n" : "ERR auth bad credentials\n", context: context)
        case ("BIG", 1):
            let size = Int(arguments[0]) ?? 0
            self.send("* value=" + String(repeating: "x", count: size) + "\nOK\n", context: context)
        case ("MANY", 1):
            let count = Int(arguments[0]) ?? 0
            var text = ""
            for index in 0..<count {
                text += "* index=\(index)\n"
            }
            self.send(text + "OK\n", context: context)
        case ("QUIT", 0):
            let written = context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: "OK bye\n")))
            written.assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            self.send("ERR unknown unknown verb \(request.verb)\n", context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
    }
}
