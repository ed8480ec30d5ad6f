import DeputyClient
import DeputyProtocol
import NIOCore
import Synchronization
import Testing

@Suite("Connection over plaintext and TLS", .timeLimit(.minutes(1)))
struct ConnectionTests {
    @Test("the greeting is parsed")
    func greetingIsParsed() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            try await server.withPlaintextConnection { connection in
                #expect(connection.serverVersion == "9.9.9-test")
                #expect(connection.greeting == "deputyd 9.9.9-test ready")
                #expect(connection.isActive)
            }
        }
    }

    @Test("a greeting that is not a Deputy greeting is refused", arguments: [
        ("OK hello there", "expected 'OK deputyd <version> ready'"),
        ("ERR unavailable too many connections", "ERR unavailable too many connections"),
        ("* stray=1", "data lines before the greeting"),
    ])
    func invalidGreetingIsRefused(greeting: String, expectedDetail: String) async throws {
        try await withScriptedServer(.plaintextTCP, greeting: greeting + "\nOK deputyd 1 ready") { server in
            let error = await clientError {
                _ = try await server.connectPlaintext()
            }
            #expect(error?.code == .invalidGreeting)
            #expect(error?.message.contains(expectedDetail) == true)
        }
    }

    @Test("a request gets its reply")
    func requestAndResponse() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            try await server.withPlaintextConnection { connection in
                let pong = try await connection.ping()
                #expect(pong == Reply(status: .ok(text: "pong")))

                let echo = try await connection.send(RequestLine(verb: "ECHO", positionals: ["two words \"quoted\""])!)
                #expect(echo.records.count == 1)
                #expect(echo.records.first?["value"] == "two words \"quoted\"")
                #expect(echo.status == .ok(text: nil))
            }
            #expect(server.receivedLines == ["PING", #"ECHO "two words \"quoted\"""#])
        }
    }

    @Test("ERR comes back as a reply and the connection stays usable")
    func errorReplyIsReturned() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            try await server.withPlaintextConnection { connection in
                let reply = try await connection.send(RequestLine(verb: "FROBNICATE", positionals: ["x"])!)
                guard case .error(let code, let text) = reply.status else {
                    Issue.record("expected an ERR status, got \(reply.status)")
                    return
                }
                #expect(code == .unknown)
                #expect(text == "unknown verb FROBNICATE")
                #expect(reply.records.isEmpty)
                #expect(try await connection.ping().status.isOK)
            }
        }
    }

    @Test("1,000 pipelined requests sent at once come back in order")
    func pipeliningInOneBatch() async throws {
        let certificate = try TestCertificate.selfSigned()
        try await withScriptedServer(.tls(certificate)) { server in
            let fingerprint = try #require(Fingerprint(digest: certificate.derSHA256))
            try await server.withTLSConnection(trust: .pinned(fingerprint)) { connection in
                let requests = try (0..<1_000).map { index in
                    try #require(RequestLine(verb: "ECHO", positionals: ["value-\(index)"]))
                }
                let replies = try await connection.send(requests)
                #expect(replies.count == 1_000)
                #expect(replies.map { $0.records.first?["value"] } == (0..<1_000).map { "value-\($0)" })
                #expect(replies.allSatisfy { $0.status.isOK })
            }
            #expect(server.receivedLines.count == 1_000)
            #expect(server.acceptedConnections == 1)
        }
    }

    @Test("concurrent senders on one connection each get their own reply")
    func concurrentSenders() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            try await server.withPlaintextConnection { connection in
                try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let reply = try await connection.sendLine("ECHO", ["\(index)"])
                            return (index, reply.records.first?["value"])
                        }
                    }
                    var seen = 0
                    for try await (index, value) in group {
                        #expect(value == "\(index)")
                        seen += 1
                    }
                    #expect(seen == 200)
                }
            }
        }
    }

    @Test("a connection closed with requests pending fails them all")
    func closedWithPendingRequests() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            let connection = try await server.connectPlaintext()
            // HOLD stops the server answering, so every request after it stays pending.
            let hold = Task { try await connection.sendLine("HOLD") }
            try await waitUntil("the server has read HOLD") { server.receivedLines.count == 1 }
            let errors = try await withThrowingTaskGroup(of: DeputyClientError?.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        await clientError { _ = try await connection.sendLine("ECHO", ["\(index)"]) }
                    }
                }
                try await waitUntil("the server has read every request") { server.receivedLines.count == 11 }
                server.closeAllConnections()
                var errors: [DeputyClientError?] = []
                for try await error in group {
                    errors.append(error)
                }
                return errors
            }
            let holdError = await clientError { _ = try await hold.value }

            #expect(errors.count == 10)
            #expect(errors.allSatisfy { $0?.code == .connectionClosed })
            #expect(errors.allSatisfy { $0?.message.contains("before the reply to ECHO") == true })
            #expect(holdError?.code == .connectionClosed)
            #expect(holdError?.message.contains("before the reply to HOLD") == true)
            try await waitUntil("the connection is closed") { !connection.isActive }

            let late = await clientError { _ = try await connection.ping() }
            #expect(late?.code == .connectionClosed)
        }
    }

    @Test("a connection closed mid-reply fails the request")
    func closedMidReply() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            try await server.withPlaintextConnection { connection in
                let error = await clientError { _ = try await connection.sendLine("HANGUP") }
                #expect(error?.code == .connectionClosed)
            }
        }
    }

    @Test("a reply line over the limit fails with replyTooLarge")
    func overlongReplyLine() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            var configuration = testConfiguration()
            configuration.limits.maximumReplyLineLength = 1_024
            try await server.withPlaintextConnection(configuration: configuration) { connection in
                // Just under the limit: "* value=" is 8 bytes.
                let fits = try await connection.sendLine("BIG", ["1016"])
                #expect(fits.records.first?["value"]?.count == 1_016)

                let error = await clientError { _ = try await connection.sendLine("BIG", ["100000"]) }
                #expect(error?.code == .replyTooLarge)
                #expect(error?.message.contains("line longer than 1024 bytes") == true)
                try await waitUntil("the connection is closed") { !connection.isActive }
            }
        }
    }

    @Test("a reply with too many records fails with replyTooLarge")
    func tooManyRecords() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            var configuration = testConfiguration()
            configuration.limits.maximumRecordsPerReply = 10
            try await server.withPlaintextConnection(configuration: configuration) { connection in
                let atLimit = try await connection.sendLine("MANY", ["10"])
                #expect(atLimit.records.count == 10)

                let error = await clientError { _ = try await connection.sendLine("MANY", ["11"]) }
                #expect(error?.code == .replyTooLarge)
                #expect(error?.message.contains("too many records") == true)
            }
        }
    }

    @Test("a late reply fails every pending request with requestTimeout and closes")
    func requestTimeout() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            var configuration = testConfiguration()
            // Long enough for the second request to be written before the first times out.
            configuration.requestTimeout = .seconds(1)
            let connection = try await server.connectPlaintext(configuration: configuration)
            async let held = clientError { _ = try await connection.sendLine("HOLD") }
            try await waitUntil("the server has read HOLD") { server.receivedLines.count == 1 }
            let behind = await clientError { _ = try await connection.ping() }
            let first = await held

            #expect(first?.code == .requestTimeout)
            #expect(first?.message.contains("no reply from \(server.plaintextEndpoint) to HOLD within 1 s") == true)
            #expect(behind?.code == .requestTimeout)
            try await waitUntil("the connection is closed") { !connection.isActive }
        }
    }

    @Test("a server that never greets fails with connectTimeout")
    func connectTimeout() async throws {
        try await withScriptedServer(.plaintextTCP, greeting: nil) { server in
            var configuration = testConfiguration()
            configuration.connectTimeout = .milliseconds(300)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await clientError {
                _ = try await server.connectPlaintext(configuration: configuration)
            }
            #expect(error?.code == .connectTimeout)
            #expect(error?.message.contains("within 300 ms") == true)
            #expect(clock.now - start < .seconds(5))
        }
    }

    @Test("cancelling a connect that waits for the greeting closes it and throws CancellationError")
    func cancelledConnect() async throws {
        try await withScriptedServer(.plaintextTCP, greeting: nil) { server in
            let connecting = Task { try await server.connectPlaintext() }
            try await waitUntil("the server accepted the connection") { server.acceptedConnections == 1 }
            connecting.cancel()
            await #expect(throws: CancellationError.self) { _ = try await connecting.value }
            try await waitUntil("the server saw the close") { server.state.withLock { $0.connections.isEmpty } }
        }
    }

    @Test("a refused TCP connection fails with connectionFailed")
    func connectionRefused() async throws {
        // Bind a port, then free it, so nothing listens there.
        let server = try await ScriptedServer.start(.plaintextTCP)
        let endpoint = server.plaintextEndpoint
        await server.stop()
        let error = await clientError {
            _ = try await DeputyConnection.connect(to: endpoint, configuration: testConfiguration())
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message == "could not connect to \(endpoint): connection refused; nothing is listening there (is deputyd running, on this address and port?)")
        #expect(error?.detail?.contains("Connection refused") == true, "the library's account is kept for --verbose: \(error?.detail ?? "")")
    }

    @Test("plaintext over a Unix socket works")
    func unixSocket() async throws {
        try await withScriptedServer(.unixSocket) { server in
            let path = try #require(server.unixSocketPath)
            let endpoint = try DeputyClientConfiguration.Endpoint(parsing: "unix:\(path)")
            #expect(endpoint.unixSocketPath == path)
            try await DeputyConnection.withConnection(to: endpoint, configuration: testConfiguration()) { connection in
                #expect(connection.serverVersion == "9.9.9-test")
                #expect(try await connection.ping() == Reply(status: .ok(text: "pong")))
                let echo = try await connection.sendLine("ECHO", ["over a socket"])
                #expect(echo.records.first?["value"] == "over a socket")
            }
        }
    }

    @Test("plaintext to a host that is not loopback is refused before connecting")
    func plaintextToRemoteHostIsRefused() async throws {
        // 0.0.0.0 would reach this machine if it were connected to; it must not be.
        let error = await clientError {
            let endpoint = DeputyClientConfiguration.Endpoint.plaintext(host: "0.0.0.0", port: 9)
            _ = try await DeputyConnection.connect(to: endpoint, configuration: testConfiguration())
        }
        #expect(error?.code == .insecureEndpoint)
    }

    @Test("quit gets its reply and closes the connection")
    func quitCloses() async throws {
        try await withScriptedServer(.plaintextTCP) { server in
            let connection = try await server.connectPlaintext()
            let reply = try await connection.quit()
            #expect(reply == Reply(status: .ok(text: "bye")))
            #expect(!connection.isActive)
            let error = await clientError { _ = try await connection.ping() }
            #expect(error?.code == .connectionClosed)
        }
    }

    @Test("withConnection closes the connection when the operation throws")
    func withConnectionClosesOnThrow() async throws {
        struct Failure: Error {}
        try await withScriptedServer(.plaintextTCP) { server in
            let kept = Mutex<DeputyConnection?>(nil)
            await #expect(throws: Failure.self) {
                try await server.withPlaintextConnection { connection in
                    kept.withLock { $0 = connection }
                    throw Failure()
                }
            }
            let connection = try #require(kept.withLock { $0 })
            try await waitUntil("the connection is closed") { !connection.isActive }
            try await waitUntil("the server saw the close") { server.state.withLock { $0.connections.isEmpty } }
        }
    }
}
