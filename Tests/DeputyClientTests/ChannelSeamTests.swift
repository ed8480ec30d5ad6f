import DeputyClient
import DeputyProtocol
import NIOCore
import NIOEmbedded
import Testing

/// The connection driven over an in-memory channel, where the test plays the server byte by byte.
@Suite("Connection over an in-memory channel", .timeLimit(.minutes(1)))
struct ChannelSeamTests {
    static let endpoint = DeputyClientConfiguration.Endpoint.plaintext(host: "127.0.0.1")

    /// A connection whose greeting has been written by the test.
    private static func connected(
        _ channel: NIOAsyncTestingChannel,
        configuration: DeputyClientConfiguration = testConfiguration(),
        greeting: [String] = ["OK deputyd 2.0.0 ready\n"]
    ) async throws -> DeputyConnection {
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7636))
        let ready = try await DeputyConnection.establish(
            on: channel,
            endpoint: Self.endpoint,
            configuration: configuration
        )
        for chunk in greeting {
            try await channel.writeInbound(ByteBuffer(string: chunk))
        }
        return try await ready.get()
    }

    private static func nextRequestLine(_ channel: NIOAsyncTestingChannel) async throws -> String {
        String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self))
    }

    @Test("lines split anywhere and ended with CRLF are read")
    func splitAndCRLF() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel, greeting: ["OK depu", "tyd 2.0.0 re", "ady\r", "\n"])
        #expect(connection.serverVersion == "2.0.0")

        async let reply = connection.sendLine("ECHO", ["a b"], named: [("limit", "5")])
        #expect(try await Self.nextRequestLine(channel) == "ECHO \"a b\" limit=5\n")
        for chunk in ["* value=1\r\n* val", "ue=2 other=\"x y\"\r", "\nOK 2 ent", "ries\r\n"] {
            try await channel.writeInbound(ByteBuffer(string: chunk))
        }
        let expected: [ReplyRecord] = [["value": "1"], ["value": "2", "other": "x y"]]
        #expect(try await reply == Reply(records: expected, status: .ok(text: "2 entries")))
        await connection.close()
    }

    @Test("a batch is written in one write, in order")
    func batchIsOneWrite() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel)
        let requests = try (1...3).map { try #require(RequestLine(verb: "ECHO", positionals: ["\($0)"])) }
        async let replies = connection.send(requests)
        #expect(try await Self.nextRequestLine(channel) == "ECHO 1\nECHO 2\nECHO 3\n")
        try await channel.writeInbound(ByteBuffer(string: "OK one\nERR notfound two\nOK three\n"))
        let statuses = try await replies.map(\.status)
        #expect(statuses == [.ok(text: "one"), .error(code: .notfound, text: "two"), .ok(text: "three")])
        await connection.close()
    }

    @Test("a reply nobody asked for closes the connection")
    func unsolicitedReply() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel)
        async let pong = connection.ping()
        _ = try await Self.nextRequestLine(channel)
        try await channel.writeInbound(ByteBuffer(string: "OK pong\nOK surprise\n"))
        #expect(try await pong == Reply(status: .ok(text: "pong")))
        #expect(!connection.isActive)
        let error = await clientError { _ = try await connection.ping() }
        #expect(error?.code == .connectionClosed)
        #expect(error?.message.contains("broke the protocol: a reply arrived with no request pending") == true)
    }

    @Test("an ERR with no request pending is the server's reason for closing, told to later requests")
    func serverClosingNotice() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel)
        try await channel.writeInbound(ByteBuffer(string: "ERR limit idle timeout\n"))
        #expect(!connection.isActive)
        let error = await clientError { _ = try await connection.whoami() }
        #expect(error?.code == .connectionClosed)
        let peer = Self.endpoint.description
        let expected = "the connection to \(peer) is closed: \(peer) closed the session: ERR limit idle timeout"
        #expect(error?.message == expected)
    }

    @Test("a malformed reply line is a protocol violation for the waiting request")
    func malformedReply() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel)
        async let failure = clientError { _ = try await connection.ping() }
        _ = try await Self.nextRequestLine(channel)
        try await channel.writeInbound(ByteBuffer(string: "MAYBE\n"))
        let error = await failure
        #expect(error?.code == .protocolViolation)
        #expect(!connection.isActive)
    }

    @Test("a cancelled request's reply is discarded and later replies stay matched")
    func cancellationKeepsOrder() async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = try await Self.connected(channel)

        let first = Task { try await connection.sendLine("ECHO", ["first"]) }
        #expect(try await Self.nextRequestLine(channel) == "ECHO first\n")
        first.cancel()
        await #expect(throws: CancellationError.self) { _ = try await first.value }

        async let second = connection.sendLine("ECHO", ["second"])
        #expect(try await Self.nextRequestLine(channel) == "ECHO second\n")
        try await channel.writeInbound(ByteBuffer(string: "* value=first\nOK\n* value=second\nOK\n"))
        #expect(try await second.records.first?["value"] == "second")
        #expect(connection.isActive)
        await connection.close()
    }

    @Test("the request timeout counts from the write, on the channel's clock")
    func requestTimeoutOnTheLoopClock() async throws {
        let channel = NIOAsyncTestingChannel()
        var configuration = testConfiguration()
        configuration.requestTimeout = .seconds(30)
        let connection = try await Self.connected(channel, configuration: configuration)

        async let failure = clientError { _ = try await connection.ping() }
        _ = try await Self.nextRequestLine(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(29))
        #expect(connection.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        let error = await failure
        #expect(error?.code == .requestTimeout)
        #expect(error?.message.contains("within 30 s") == true)
        #expect(!connection.isActive)
    }

    @Test("replies that keep coming move the timeout to the next request")
    func timeoutFollowsTheOldestRequest() async throws {
        let channel = NIOAsyncTestingChannel()
        var configuration = testConfiguration()
        configuration.requestTimeout = .seconds(10)
        let connection = try await Self.connected(channel, configuration: configuration)

        async let first = connection.sendLine("ECHO", ["1"])
        _ = try await Self.nextRequestLine(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(6))
        async let secondFailure = clientError { _ = try await connection.sendLine("ECHO", ["2"]) }
        _ = try await Self.nextRequestLine(channel)
        try await channel.writeInbound(ByteBuffer(string: "OK\n"))
        #expect(try await first.status.isOK)

        // The first request's deadline passes; the second's (written 6 s later) has not.
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        #expect(connection.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        let error = await secondFailure
        #expect(error?.code == .requestTimeout)
        #expect(error?.message.contains("to ECHO") == true)
    }

    @Test("a pipelined batch whose replies keep coming does not time out, however long the whole batch takes")
    func pipelinedBatchTimesOutOnlyWhenRepliesStop() async throws {
        let channel = NIOAsyncTestingChannel()
        var configuration = testConfiguration()
        configuration.requestTimeout = .seconds(10)
        let connection = try await Self.connected(channel, configuration: configuration)

        // One at a time, so that the requests go out (and their replies match) in a known order:
        // child tasks of `async let` may start in any order.
        async let first = connection.sendLine("ECHO", ["1"])
        #expect(try await Self.nextRequestLine(channel) == "ECHO 1\n")
        async let second = connection.sendLine("ECHO", ["2"])
        #expect(try await Self.nextRequestLine(channel) == "ECHO 2\n")
        async let thirdFailure = clientError { _ = try await connection.sendLine("ECHO", ["3"]) }
        #expect(try await Self.nextRequestLine(channel) == "ECHO 3\n")
        // Each reply 8 s after the one before: all three were written at 0 s.
        await channel.testingEventLoop.advanceTime(by: .seconds(8))
        try await channel.writeInbound(ByteBuffer(string: "OK\n"))
        #expect(try await first.status.isOK)
        await channel.testingEventLoop.advanceTime(by: .seconds(8))
        #expect(connection.isActive)
        try await channel.writeInbound(ByteBuffer(string: "OK\n"))
        #expect(try await second.status.isOK)
        // The third's time runs from the second's reply (16 s): still waiting at 25 s.
        await channel.testingEventLoop.advanceTime(by: .seconds(9))
        #expect(connection.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        let error = await thirdFailure
        #expect(error?.code == .requestTimeout)
    }

    @Test("the greeting must arrive within the connect timeout")
    func greetingTimeout() async throws {
        let channel = NIOAsyncTestingChannel()
        var configuration = testConfiguration()
        configuration.connectTimeout = .seconds(5)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7636))
        let ready = try await DeputyConnection.establish(
            on: channel,
            endpoint: Self.endpoint,
            configuration: configuration
        )
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        let error = await clientError { _ = try await ready.get() }
        #expect(error?.code == .connectTimeout)
        #expect(!channel.isActive)
    }
}
