@testable import DeputyServer
import DeputyCore
import DeputyProtocol
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import Testing

/// The connection handler on a testing channel: bytes in, replies out, with the waits
/// run by the test.
@Suite("Session handler")
struct SessionHandlerTests {
    /// Counts the reads that pass the handler towards the socket: counted on the channel's
    /// event loop, read by the test.
    final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        private let count = Mutex(0)
        var reads: Int { count.withLock { $0 } }
        func read(context: ChannelHandlerContext) {
            count.withLock { $0 += 1 }
            context.read()
        }
    }

    /// The one consumer of a connection's waits.
    final class WaitQueue: @unchecked Sendable {
        var iterator: AsyncStream<SessionWaits.Job>.AsyncIterator
        init(_ waits: SessionWaits) { iterator = waits.jobs.makeAsyncIterator() }
    }

    /// A connection on a `NIOAsyncTestingChannel`, whose event loop is safe to use from the
    /// test's task whichever thread it resumes on (an `EmbeddedEventLoop` is not).
    struct Connection {
        let channel: NIOAsyncTestingChannel
        let waits: WaitQueue
        let reads: ReadCounter

        /// Everything written so far, as text.
        func written() async throws -> String {
            var text = ""
            while let buffer = try await channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }

        /// Sends bytes as one read.
        func send(_ text: String) async throws {
            try await channel.writeInbound(ByteBuffer(string: text))
        }

        /// Runs `body` on the channel's event loop, as the channel's own events run.
        func onLoop<Value: Sendable>(_ body: @escaping @Sendable (NIOAsyncTestingChannel) throws -> Value) async throws -> Value {
            let channel = channel
            return try await channel.testingEventLoop.executeInContext { try body(channel) }
        }

        /// Runs the next request that waits, and brings its answer back to the channel.
        func runNextWait() async throws {
            let queue = waits
            // Bounded: a request that never waited fails the test instead of hanging it.
            let job = try await withThrowingTaskGroup(of: SessionWaits.Job?.self) { group in
                group.addTask { await queue.iterator.next() }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return try #require(first, "no request waited")
            }
            await job()
            await channel.testingEventLoop.run()
        }
    }

    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// A clock that counts its readings.
    final class CountingClock: Sendable {
        private let readings = Mutex(0)
        var count: Int { readings.withLock { $0 } }
        func now() -> Date {
            readings.withLock { $0 += 1 }
            return TestServer.start
        }
    }

    static func connect(tls: Bool = false, maximumPending: Int = 1_024, clock: CountingClock? = nil) async throws -> Connection {
        var limits = ServerLimits()
        limits.protocolLimits.maximumPendingRequests = maximumPending
        let environment = SessionEnvironment(
            committer: InMemoryCommitter(TestServer.directory()), passwords: PasswordService(hasher: TestServer.hasher, pool: pool),
            throttle: LoginThrottle(), clock: { clock?.now() ?? TestServer.start }, limits: limits.protocolLimits
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let waits = SessionWaits()
        let shared = SessionHandler.Shared(environment: environment, limits: limits, connections: ConnectionRegistry(), logger: logger, waits: waits)
        let reads = ReadCounter()
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(reads)
            try channel.pipeline.syncOperations.addHandler(SessionHandler(shared: shared, tls: tls, connectionID: 1, peer: "192.0.2.1"))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 1)).get()
        return Connection(channel: channel, waits: WaitQueue(waits), reads: reads)
    }

    @Test("a pipelined batch is answered in one write; lines behind a BIND wait for it, in order")
    func pipelining() async throws {
        let connection = try await Self.connect()
        #expect(try await connection.written() == "OK deputyd \(DeputyVersion.current) ready\n")
        try await connection.send("PING\nPING\nWHOAMI\n")
        #expect(try await connection.channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "OK pong\nOK pong\nERR auth BIND first\n")
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\nWHOAMI\nPING\n")
        #expect(try await connection.written() == "", "nothing before the BIND is answered")
        try await connection.runNextWait()
        let replies = try await connection.written()
        #expect(replies.hasPrefix("OK bound as admin@example.test\n* login=admin@example.test "), "\(replies)")
        #expect(replies.hasSuffix("OK\nOK pong\n"), "\(replies)")
    }

    @Test("the queries of one read are answered as of one reading of the clock, the next read's as of another")
    func oneClockReadingARead() async throws {
        let clock = CountingClock()
        let connection = try await Self.connect(clock: clock)
        _ = try await connection.written()
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\n")
        try await connection.runNextWait()
        _ = try await connection.written()
        let before = clock.count
        let queries = "QUERY SENDAS admin@example.test admin@example.test\nQUERY DELEGATES admin@example.test\nQUERY ACCESS admin@example.test admin@example.test\n"
        try await connection.send(queries)
        let replies = try await connection.written()
        #expect(replies.components(separatedBy: "\n").filter { $0.hasPrefix("OK") }.count == 3, "\(replies)")
        #expect(clock.count == before + 1)
        try await connection.send(queries)
        _ = try await connection.written()
        #expect(clock.count == before + 2)
    }

    @Test("reading stops while the client reads no replies, and goes on when it does")
    func backPressure() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        let before = connection.reads.reads
        try await connection.onLoop { channel in
            channel.isWritable = false
            channel.pipeline.fireChannelWritabilityChanged()
            channel.read()
        }
        #expect(connection.reads.reads == before, "the read is held")
        try await connection.onLoop { channel in
            channel.isWritable = true
            channel.pipeline.fireChannelWritabilityChanged()
        }
        #expect(connection.reads.reads == before + 1, "the held read goes on")
    }

    @Test("too many lines behind a waiting request stop the reading until the queue is answered")
    func pendingLimit() async throws {
        let connection = try await Self.connect(maximumPending: 2)
        _ = try await connection.written()
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\nPING\nPING\n")
        let before = connection.reads.reads
        try await connection.onLoop { $0.read() }
        #expect(connection.reads.reads == before)
        try await connection.runNextWait()
        #expect(connection.reads.reads == before + 1)
        #expect(try await connection.written().hasSuffix("OK pong\nOK pong\n"))
    }

    @Test("the input behind a BIND still being checked is held, and reading waits, until it is answered")
    func inputHeldBehindBind() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\nPING\n")
        let before = connection.reads.reads
        try await connection.onLoop { $0.read() }
        #expect(connection.reads.reads == before, "no more is read while the input waits unsplit")
        try await connection.runNextWait()
        #expect(connection.reads.reads == before + 1)
        #expect(try await connection.written() == "OK bound as admin@example.test\nOK pong\n")
    }

    @Test("a drain answers the request in hand and what was read behind it, then closes")
    func drain() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\nPING\n")
        try await connection.onLoop { $0.pipeline.fireUserInboundEventTriggered(SessionHandler.Drain()) }
        #expect(connection.channel.isActive, "the BIND in hand is not cut off")
        try await connection.runNextWait()
        #expect(try await connection.written() == "OK bound as admin@example.test\nOK pong\n")
        #expect(!connection.channel.isActive)
    }

    @Test("before its TLS handshake a connection that ends its input closes without a word")
    func tlsGating() async throws {
        let connection = try await Self.connect(tls: true)
        // The greeting waits in the TLS handler, which is not in this pipeline: it was written.
        _ = try await connection.written()
        try await connection.onLoop { $0.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        #expect(!connection.channel.isActive)
        #expect(try await connection.written() == "")
    }

    @Test("QUIT answers, then the connection closes; nothing after it is read")
    func quit() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("PING\nQUIT\nPING\n")
        let written = try await connection.written()
        #expect(written == "OK pong\nOK bye\n", "\(written.debugDescription)")
        #expect(!connection.channel.isActive)
    }
    @Test("a line split over several reads is one request; a CR and its LF may arrive apart")
    func splitLines() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("PI")
        try await connection.send("NG\nPIN")
        #expect(try await connection.written() == "OK pong\n")
        try await connection.send("G\r")
        #expect(try await connection.written() == "", "a line is not answered before its end")
        try await connection.send("\nPING\n")
        #expect(try await connection.written() == "OK pong\nOK pong\n")
    }

    @Test("pipelined lines cut at any byte, and a long line sent a byte at a time, are answered whole and in order")
    func manySmallReads() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        let pings = String(repeating: "PING\n", count: 200)
        var rest = Substring(pings)
        while !rest.isEmpty {
            try await connection.send(String(rest.prefix(7)))
            rest = rest.dropFirst(7)
        }
        #expect(try await connection.written() == String(repeating: "OK pong\n", count: 200))
        let topic = String(repeating: "x", count: 4_000)
        for byte in "HELP \(topic)\nPING\n" { try await connection.send(String(byte)) }
        let written = try await connection.written()
        #expect(written.hasPrefix("ERR "), "\(written.prefix(80))")
        #expect(written.hasSuffix("\nOK pong\n"))
        #expect(written.components(separatedBy: "\n").count == 3)
    }

    @Test("a line over the limit is answered after the lines before it, then the connection closes unread")
    func overlongLine() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        let limit = ServerLimits().protocolLimits.maximumLineLengthBeforeAuthentication
        try await connection.send("PING\n" + String(repeating: "x", count: limit + 1) + "\nPING\n")
        let written = try await connection.written()
        #expect(written.hasPrefix("OK pong\nERR limit "), "\(written.debugDescription)")
        #expect(written.components(separatedBy: "\n").count == 3, "nothing after the long line is answered: \(written.debugDescription)")
        #expect(!connection.channel.isActive)
    }

    @Test("a last line without its end, when the client closes its side, is not a request")
    func unterminatedLastLine() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("PING\nQUIT")
        try await connection.onLoop { $0.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        #expect(try await connection.written() == "OK pong\n")
        #expect(!connection.channel.isActive)
    }

    /// A search the index can't narrow builds every entry of its kinds: on the event loop it
    /// would hold every connection the loop serves. Listings wait, as a BIND does, and the
    /// lines behind them queue.
    @Test("AUDIT, SEARCH and DELEGATIONS are answered off the event loop, in order with the lines behind them")
    func listingsWait() async throws {
        let connection = try await Self.connect()
        _ = try await connection.written()
        try await connection.send("BIND admin@example.test \"\(TestServer.adminPassword)\"\n")
        try await connection.runNextWait()
        _ = try await connection.written()
        for listing in ["QUERY SEARCH \"(mail=*)\"", "QUERY DELEGATIONS", "AUDIT limit=1"] {
            try await connection.send("\(listing)\nPING\n")
            #expect(try await connection.written() == "", "\(listing) was answered on the event loop")
            try await connection.runNextWait()
            let lines = try await connection.written().split(separator: "\n")
            #expect(lines.last == "OK pong", "\(listing): \(lines)")
            #expect(lines.dropLast().last?.hasPrefix("OK ") == true, "\(listing): \(lines)")
            #expect(lines.dropLast(2).allSatisfy { $0.hasPrefix("* ") }, "\(listing): \(lines)")
            #expect(lines.count > 2 || listing == "QUERY DELEGATIONS", "\(listing): \(lines)")
        }
        // Queries that read one entry are still answered at once.
        try await connection.send("QUERY SENDAS admin@example.test admin@example.test\n")
        #expect(try await connection.written().hasSuffix("OK\n"))
    }

    /// A session without a connection, on `committer`'s directory, bound as the administrator.
    static func boundSession(_ committer: InMemoryCommitter, listings: ListingThread = .shared) async -> Session {
        let environment = SessionEnvironment(
            committer: committer, passwords: PasswordService(hasher: TestServer.hasher, pool: pool), throttle: LoginThrottle(),
            clock: { TestServer.start }, listings: listings
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var session = Session(environment: environment, peer: "192.0.2.1", logger: logger)
        #expect(await session.handle(.bind(login: "admin@example.test", password: TestServer.adminPassword)).0.status.isOK)
        return session
    }

    /// The page after a search goes on where it stopped, also when the search ran on a copy
    /// of the session on the listings' thread.
    @Test("a search that waited leaves its place for the next page")
    func searchResumptionComesBack() async throws {
        var session = await Self.boundSession(InMemoryCommitter(TestServer.directory()))
        #expect(session.queryScratch.searchResumption == nil)
        let (page, _) = await session.handle(.query(.search(try Request.SearchQuery("(objectclass=*)", limit: 1))))
        #expect(page.records.count == 1)
        let resumption = try #require(session.queryScratch.searchResumption)
        #expect(resumption.offset == 1)
        #expect(resumption.filter == "(objectclass=*)")
    }

    /// A `DELEGATIONS` page keeps the delegations' order for the next page, for as long as
    /// the set of delegations is the one it was read from: after a delegation is added or
    /// removed, it is read anew.
    @Test("the delegations' order is kept from one page to the next, and read anew when the delegations change")
    func delegationOrderFollowsTheDirectory() async throws {
        var directory = TestServer.directory()
        let context = CommandContext(actor: .system, time: TestServer.start)
        func address(_ name: String) -> EmailAddress { EmailAddress("\(name)@example.test")! }
        for name in ["a", "b", "c"] {
            directory.apply(.addUser(NewUser(address: address(name), displayName: name, passwordHash: TestServer.hasher.hash("x"))), context: context)
        }
        directory.apply(.delegate(NewDelegation(mailbox: address("a"), delegate: address("b"), permissions: PermissionSet([.read]))), context: context)
        let committer = InMemoryCommitter(directory)
        var session = await Self.boundSession(committer)
        let first = await session.handle(.query(.delegations(offset: 0))).0
        #expect(first.records.count == 1)
        #expect(session.queryScratch.delegationOrder?.identities.count == 1)
        let kept = try #require(session.queryScratch.delegationOrder)
        #expect(await session.handle(.query(.delegations(offset: 0))).0.records.count == 1)
        #expect(session.queryScratch.delegationOrder === kept, "the next page of the same directory sorts again")
        // A change that leaves the delegations as they were (a failed login's record) keeps it.
        _ = try await committer.commit(.recordLoginFailure(LoginAttempt(login: "x@example.test", source: "192.0.2.9", via: "bind")), context: context)
        #expect(await session.handle(.query(.delegations(offset: 0))).0.records.count == 1)
        #expect(session.queryScratch.delegationOrder === kept, "a failed login's record sorted the delegations again")

        _ = try await committer.commit(.delegate(NewDelegation(mailbox: address("a"), delegate: address("c"), permissions: PermissionSet([.read]))), context: context)
        #expect(await session.handle(.query(.delegations(offset: 0))).0.records.count == 2)
        #expect(session.queryScratch.delegationOrder?.identities.count == 2)
        #expect(await session.handle(.query(.delegations(offset: 1))).0.records.count == 1)
        _ = try await committer.commit(.undelegate(mailbox: address("a"), delegate: address("b")), context: context)
        #expect(await session.handle(.query(.delegations(offset: 0))).0.records.count == 1)
        #expect(session.queryScratch.delegationOrder?.identities.count == 1)
    }

    /// One principal's listings hold at most their share of the listing thread's places; the
    /// next is refused at once, with what to do.
    @Test("a principal's listing beyond its share of the waiting places is refused at once")
    func listingBeyondThePrincipalsShare() async throws {
        let listings = ListingThread(name: "test.share", ownerLimit: 1)
        var session = await Self.boundSession(InMemoryCommitter(TestServer.directory()), listings: listings)
        let principal = try #require(session.principal)
        let gate = DispatchSemaphore(value: 0)
        defer { gate.signal() }
        let held = Task { await listings.run(for: principal) { gate.wait() } }
        try #require(try await ListingThreadTests.waitForPending(1, on: listings))
        let (reply, _) = await session.handle(.audit(Request.AuditQuery(limit: 1)))
        #expect(reply.status == .error(code: .unavailable, text: "1 of your listings are waiting already; send the next when one is answered"))
        gate.signal()
        _ = await held.value
        #expect(await session.handle(.audit(Request.AuditQuery(limit: 1))).0.records.count == 1)
    }

    /// A listing left waiting by a connection that closed is not answered: nobody reads it.
    @Test("a listing of a connection that closed is not run")
    func listingOfAClosedConnection() async throws {
        var session = await Self.boundSession(InMemoryCommitter(TestServer.directory()))
        #expect(await session.handle(.audit(Request.AuditQuery(limit: 1))).0.records.count == 1)
        session.connectionClosed.set()
        let (reply, _) = await session.handle(.audit(Request.AuditQuery(limit: 1)))
        #expect(reply.records.isEmpty)
        #expect(reply.status == .error(code: .unavailable, text: "the connection closed before the listing was answered"))
    }
}
