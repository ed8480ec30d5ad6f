import DeputyProtocol

/// Everything a ``DeputyConnection`` needs besides the endpoint: trust, TLS version, timeouts
/// and reply limits.
///
/// ```swift
/// var configuration = DeputyClientConfiguration(trust: .certificateFile("/etc/deputy/ca.pem"))
/// configuration.requestTimeout = .seconds(10)
/// try await DeputyConnection.withConnection(to: endpoint, configuration: configuration) { connection in
///     try await connection.ping()
/// }
/// ```
public struct DeputyClientConfiguration: Sendable {
    /// The default time allowed to connect, complete the TLS handshake and receive the greeting.
    public static let defaultConnectTimeout: Duration = .seconds(10)

    /// The default time allowed for each reply.
    public static let defaultRequestTimeout: Duration = .seconds(60)

    /// How the server's certificate is trusted; ignored for plaintext endpoints.
    public var trust: DeputyTrust

    /// The lowest TLS version offered; TLS 1.2 unless raised to 1.3.
    public var minimumTLSVersion: MinimumTLSVersion

    /// The time allowed from the start of connecting until the greeting has arrived, TLS
    /// handshake included. A first-contact decision (see ``DeputyTrust/knownHosts(_:onFirstContact:)``)
    /// is not counted.
    public var connectTimeout: Duration

    /// The time allowed for each reply, counted from when its request is written or, in a
    /// pipelined batch, from when the reply before it arrived, whichever is later: a batch of
    /// a thousand slow requests (each `ADD USER` hashes a password) times out only when the
    /// server stops answering, not when the whole batch takes longer than one reply may.
    /// `nil` waits forever.
    ///
    /// Replies come in request order, so when one is late nothing after it can arrive either:
    /// a timeout fails every pending request with ``DeputyClientError/Code/requestTimeout``
    /// and closes the connection.
    public var requestTimeout: Duration?

    /// The reply limits: ``ProtocolLimits/maximumReplyLineLength``,
    /// ``ProtocolLimits/maximumRecordsPerReply`` and ``ProtocolLimits/maximumFieldsPerRecord``
    /// bound the memory one reply can take.
    public var limits: ProtocolLimits

    /// Creates a configuration.
    public init(
        trust: DeputyTrust = .systemDefault,
        minimumTLSVersion: MinimumTLSVersion = .tls12,
        connectTimeout: Duration = Self.defaultConnectTimeout,
        requestTimeout: Duration? = Self.defaultRequestTimeout,
        limits: ProtocolLimits = .default
    ) {
        self.trust = trust
        self.minimumTLSVersion = minimumTLSVersion
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.limits = limits
    }
}
