import DeputyServer
import Testing

@Suite("Mail listener configuration")
struct MailAdapterConfigurationTests {
    @Test("non-loopback addresses are refused", arguments: ["0.0.0.0:10023", "10.1.2.3:10023", "[::]:10023", "mail.example.org:10023"])
    func nonLoopback(_ text: String) throws {
        let address = try #require(ListenAddress(hostAndPort: text))
        for kind in [MailAdapterKind.socketmap, .tcpTable(.senders), .policy, .dovecotAuth] {
            let configuration = MailAdapterConfiguration(listeners: [MailAdapterListener(kind: kind, address: address)])
            #expect(throws: ConfigurationError.self) { try configuration.validate() }
        }
    }

    @Test("loopback addresses and Unix sockets are accepted")
    func loopback() throws {
        let configuration = MailAdapterConfiguration(listeners: [
            MailAdapterListener(kind: .socketmap, address: .tcp(host: "127.0.0.1", port: 10_001)),
            MailAdapterListener(kind: .tcpTable(.aliases), address: .tcp(host: "::1", port: 10_002)),
            MailAdapterListener(kind: .policy, address: .tcp(host: "localhost", port: 10_003)),
            MailAdapterListener(kind: .dovecotAuth, address: .unix(path: "/run/deputy/auth")),
            MailAdapterListener(kind: .dovecotDict, address: .unix(path: "/run/deputy/dict")),
        ])
        try configuration.validate()
    }

    @Test("the dict listener needs a Unix socket; an address can't serve twice; limits must be positive")
    func otherRules() {
        let dictOnTCP = MailAdapterConfiguration(listeners: [MailAdapterListener(kind: .dovecotDict, address: .tcp(host: "127.0.0.1", port: 10_004))])
        #expect(throws: ConfigurationError.self) { try dictOnTCP.validate() }
        let twice = MailAdapterConfiguration(listeners: [
            MailAdapterListener(kind: .socketmap, address: .tcp(host: "127.0.0.1", port: 10_005)),
            MailAdapterListener(kind: .policy, address: .tcp(host: "127.0.0.1", port: 10_005)),
        ])
        #expect(throws: ConfigurationError.self) { try twice.validate() }
        for limits in [MailAdapterLimits(maximumConnections: 0), MailAdapterLimits(maximumRequestSize: 0), MailAdapterLimits(idleTimeout: 0)] {
            let configuration = MailAdapterConfiguration(listeners: [MailAdapterListener(kind: .policy, address: .tcp(host: "127.0.0.1", port: 1), limits: limits)])
            #expect(throws: ConfigurationError.self) { try configuration.validate() }
        }
        let ephemeral = MailAdapterConfiguration(listeners: [
            MailAdapterListener(kind: .socketmap, address: .tcp(host: "127.0.0.1", port: 0)),
            MailAdapterListener(kind: .policy, address: .tcp(host: "127.0.0.1", port: 0)),
        ])
        #expect(throws: Never.self) { try ephemeral.validate() }
    }
}

@Suite("Mail listener flags")
struct MailAdapterFlagTests {
    @Test("ADDRESS is HOST:PORT or an absolute socket path", arguments: [
        ("127.0.0.1:7640", ListenAddress.tcp(host: "127.0.0.1", port: 7640)), ("[::1]:7641", .tcp(host: "::1", port: 7641)),
        ("/run/deputy/dict", .unix(path: "/run/deputy/dict")),
    ])
    func address(_ text: String, _ expected: ListenAddress) {
        #expect(MailAdapterListener.address(text) == expected)
    }

    @Test("bad addresses are refused", arguments: ["", "/", "relative/path", "7640", "host:port"])
    func badAddress(_ text: String) {
        #expect(MailAdapterListener.address(text) == nil)
    }

    @Test("--tcp-table takes MAP=ADDRESS")
    func tcpTable() {
        #expect(MailAdapterListener.tcpTable("senders=127.0.0.1:7643") == MailAdapterListener(kind: .tcpTable(.senders), address: .tcp(host: "127.0.0.1", port: 7643)))
        #expect(MailAdapterListener.tcpTable("aliases=/run/deputy/aliases")?.kind == .tcpTable(.aliases))
        for bad in ["owners=127.0.0.1:1", "senders", "senders=", "=127.0.0.1:1", "Senders=127.0.0.1:1"] {
            #expect(MailAdapterListener.tcpTable(bad) == nil, "\(bad)")
        }
    }
}
