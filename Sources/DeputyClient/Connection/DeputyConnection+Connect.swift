import DeputyProtocol
import NIOCore
import NIOPosix
import NIOSSL

extension DeputyConnection {
    /// Connects to `endpoint`, completes the TLS handshake if any, and waits for the greeting.
    ///
    /// With ``DeputyTrust/knownHosts(_:onFirstContact:)`` and an unknown server, the decision
    /// is asked for after the greeting and before returning.
    ///
    /// - Throws: ``DeputyClientError``: `insecureEndpoint`, `invalidTrustConfiguration`,
    ///   `connectionFailed`, `connectTimeout`, `tlsHandshakeFailed`, `fingerprintMismatch`,
    ///   `hostRejected`, `knownHostsWriteFailed`, `invalidGreeting` or `connectionClosed`;
    ///   `CancellationError` if the task is cancelled while connecting.
    public static func connect(
        to endpoint: DeputyClientConfiguration.Endpoint,
        configuration: DeputyClientConfiguration = DeputyClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> DeputyConnection {
        guard endpoint.usesTLS || endpoint.isLocal else {
            throw DeputyClientError.insecureEndpoint(endpoint)
        }
        let peer = endpoint.description
        let tls = endpoint.usesTLS ? try TLSSetup(endpoint: endpoint, configuration: configuration) : nil

        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<InstalledHandlers> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                }
                return try Self.installHandlers(on: channel, peer: peer, configuration: configuration)
            }
        }

        let installed: InstalledHandlers
        do {
            switch endpoint.address {
            case .tcp(let host, let port):
                installed = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unixSocket(let path):
                installed = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            }
        } catch ChannelError.connectTimeout {
            throw DeputyClientError.connectTimeout(peer, after: configuration.connectTimeout)
        } catch {
            throw DeputyClientError.connectionFailed(peer, error)
        }

        let connection: DeputyConnection
        do {
            connection = try await installed.connection(endpoint: endpoint, explainingFailuresWith: tls)
        } catch let error as DeputyClientError where error.code == .certificateNotTrusted {
            throw await CertificateDiagnosis.explain(error, endpoint: endpoint, trust: configuration.trust, group: eventLoopGroup)
        }
        if let pin = tls?.pinAfterVerification {
            try await connection.requireLeaf(pin)
        }
        if let question = tls?.firstContact {
            try await connection.askFirstContact(question, fingerprint: tls?.check?.observedFingerprint)
        }
        return connection
    }

    /// Connects, runs `operation`, and closes the connection however `operation` ends.
    ///
    /// ```swift
    /// let whoami = try await DeputyConnection.withConnection(to: endpoint) { connection in
    ///     _ = try await connection.bind(login: login, password: password)
    ///     return try await connection.whoami()
    /// }
    /// ```
    public static func withConnection<Value>(
        to endpoint: DeputyClientConfiguration.Endpoint,
        configuration: DeputyClientConfiguration = DeputyClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        isolation: isolated (any Actor)? = #isolation,
        operation: (DeputyConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await Self.connect(
            to: endpoint,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup
        )
        defer { connection.closeSoon() }
        return try await operation(connection)
    }

    // MARK: - Channel seam

    /// Installs the protocol handlers on an open `channel` that has not read anything yet, and
    /// returns a future for the connection, which completes once the greeting has arrived.
    ///
    /// The seam for tests that drive a connection over an in-memory channel:
    ///
    /// ```swift
    /// let channel = NIOAsyncTestingChannel()
    /// let ready = try await DeputyConnection.establish(on: channel, endpoint: endpoint, configuration: configuration)
    /// try await channel.writeInbound(ByteBuffer(string: "OK deputyd 1.0 ready\n"))
    /// let connection = try await ready.get()
    /// ```
    package static func establish(
        on channel: any Channel,
        endpoint: DeputyClientConfiguration.Endpoint,
        configuration: DeputyClientConfiguration
    ) async throws -> EventLoopFuture<DeputyConnection> {
        let installed = try await channel.eventLoop.submit {
            try Self.installHandlers(on: channel, peer: endpoint.description, configuration: configuration)
        }.get()
        return installed.greeting.map { greeting in
            DeputyConnection(
                channel: channel,
                endpoint: endpoint,
                greeting: greeting,
                closeReason: installed.closeReason
            )
        }
    }

    // MARK: - Internals

    /// The protocol handlers of a channel as seen from outside its event loop.
    private struct InstalledHandlers: Sendable {
        let channel: any Channel
        let greeting: EventLoopFuture<Greeting>
        let closeReason: CloseReason

        /// Waits for the greeting; on failure closes the channel and throws the best explanation.
        func connection(
            endpoint: DeputyClientConfiguration.Endpoint,
            explainingFailuresWith tls: TLSSetup?
        ) async throws -> DeputyConnection {
            let channel = self.channel
            do {
                let greeting = try await withTaskCancellationHandler {
                    try await self.greeting.get()
                } onCancel: {
                    channel.close(mode: .all, promise: nil)
                }
                return DeputyConnection(
                    channel: channel,
                    endpoint: endpoint,
                    greeting: greeting,
                    closeReason: self.closeReason
                )
            } catch let error as DeputyClientError {
                channel.close(mode: .all, promise: nil)
                try Task.checkCancellation()
                throw tls?.explain(error, peer: endpoint.description) ?? error
            }
        }
    }

    /// Adds the line decoder and the protocol handler; call on the channel's event loop.
    private static func installHandlers(
        on channel: any Channel,
        peer: String,
        configuration: DeputyClientConfiguration
    ) throws -> InstalledHandlers {
        let closeReason = CloseReason()
        let handler = DeputyChannelHandler(
            peer: peer,
            eventLoop: channel.eventLoop,
            closeReason: closeReason,
            configuration: configuration
        )
        let decoder = LineFrameDecoder(maximumLineLength: configuration.limits.maximumReplyLineLength)
        do {
            try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(decoder), handler)
        } catch {
            handler.abandon(error)
            throw error
        }
        return InstalledHandlers(channel: channel, greeting: handler.greetingFuture, closeReason: closeReason)
    }

    /// A CA file and a pin together: the chain was verified in the handshake; the leaf must
    /// also have the pinned fingerprint, or the connection is closed before any request.
    private func requireLeaf(_ expected: Fingerprint) async throws {
        let leaf = try? await self.channel.nioSSL_peerCertificate().get()
        let actual = leaf.flatMap { try? Fingerprint(certificate: $0) }
        guard actual != expected else { return }
        await self.close()
        let peer = self.endpoint.description
        guard let actual else { throw DeputyClientError.tlsHandshakeFailed(peer, "the server presented no certificate") }
        throw DeputyClientError.fingerprintMismatch(peer, expected: expected, actual: actual, knownHostsPath: nil)
    }

    /// Trust on first use: asks whether to trust the server just met and remembers it if so.
    private func askFirstContact(_ question: TLSSetup.FirstContactQuestion, fingerprint: Fingerprint?) async throws {
        let peer = self.endpoint.description
        guard let fingerprint else {
            await self.close()
            throw DeputyClientError.tlsHandshakeFailed(peer, "the server presented no certificate")
        }
        let contact = DeputyTrust.FirstContact(
            host: question.host,
            fingerprint: fingerprint,
            knownHostsPath: question.knownHosts.path
        )
        guard await question.decide(contact) else {
            await self.close()
            throw DeputyClientError.hostRejected(peer, fingerprint)
        }
        do {
            try question.knownHosts.remember(fingerprint, for: question.host)
        } catch {
            await self.close()
            throw error
        }
    }
}
