import DeputyClient
import Testing

@Suite("Endpoint parsing")
struct EndpointTests {
    typealias Endpoint = DeputyClientConfiguration.Endpoint

    @Test("valid server addresses", arguments: [
        ("directory.example.org:7000", Endpoint.tls(host: "directory.example.org", port: 7000)),
        ("directory.example.org", .tls(host: "directory.example.org", port: 7636)),
        ("127.0.0.1:7636", .tls(host: "127.0.0.1", port: 7636)),
        ("[::1]:9000", .tls(host: "::1", port: 9000)),
        ("[2001:db8::5]", .tls(host: "2001:db8::5", port: 7636)),
        ("::1", .tls(host: "::1", port: 7636)),
        ("  localhost:1  ", .tls(host: "localhost", port: 1)),
        ("deputy://directory.example.org:7001", .tls(host: "directory.example.org", port: 7001)),
        ("deputy://directory.example.org/", .tls(host: "directory.example.org", port: 7636)),
        ("DEPUTY://[::1]:65535", .tls(host: "::1", port: 65_535)),
        ("deputy+plain://127.0.0.1:7637", .plaintext(host: "127.0.0.1", port: 7637)),
        ("deputy+plain://localhost", .plaintext(host: "localhost", port: 7636)),
        ("unix:/run/deputyd/deputyd.sock", .unixSocket(path: "/run/deputyd/deputyd.sock")),
        ("unix:///run/deputyd.sock", .unixSocket(path: "/run/deputyd.sock")),
        ("unix:relative.sock", .unixSocket(path: "relative.sock")),
    ])
    func validAddress(text: String, expected: Endpoint) throws {
        #expect(try Endpoint(parsing: text) == expected)
    }

    @Test("invalid server addresses", arguments: [
        ("", "empty"),
        ("   ", "empty"),
        ("host:", "invalid port"),
        ("host:0", "invalid port"),
        ("host:65536", "invalid port"),
        ("host:+80", "invalid port"),
        ("host:http", "invalid port"),
        (":7636", "no host"),
        ("bad host:7636", "invalid host name"),
        ("host/path:7636", "invalid host name"),
        ("[::1", "unclosed"),
        ("[::1]x", "unexpected text after ']'"),
        ("[not-v6]:7636", "invalid IPv6 address"),
        ("fe80::1:zz", "write IPv6 addresses as [address]:port"),
        ("https://directory.example.org", "unknown scheme"),
        ("deputy://directory.example.org/path", "invalid host name"),
        ("unix:", "no socket path"),
    ])
    func invalidAddress(text: String, expectedReason: String) {
        #expect {
            _ = try Endpoint(parsing: text)
        } throws: { error in
            guard let error = error as? DeputyClientError else { return false }
            return error.code == .invalidEndpoint && error.message.contains(expectedReason)
        }
    }

    @Test("credentials in an address are refused without being repeated")
    func credentialsAreNotEchoed() {
        #expect {
            _ = try Endpoint(parsing: "deputy://admin:S3cret-pass@directory.example.org")
        } throws: { error in
            guard let error = error as? DeputyClientError else { return false }
            return error.code == .invalidEndpoint && !error.message.contains("S3cret-pass")
                && !String(reflecting: error).contains("S3cret-pass")
        }
    }

    @Test("the description parses back to the same endpoint", arguments: [
        Endpoint.tls(host: "directory.example.org", port: 7636),
        .tls(host: "::1", port: 1),
        .plaintext(host: "127.0.0.1", port: 7637),
        .plaintext(host: "::1", port: 7637),
        .unixSocket(path: "/run/deputyd.sock"),
    ])
    func descriptionRoundTrips(endpoint: Endpoint) throws {
        #expect(try Endpoint(parsing: endpoint.description) == endpoint)
    }

    @Test("components and authority")
    func components() throws {
        let v6 = try Endpoint(parsing: "[2001:db8::5]:7000")
        #expect(v6.host == "2001:db8::5")
        #expect(v6.port == 7000)
        #expect(v6.authority == "[2001:db8::5]:7000")
        #expect(v6.usesTLS)
        #expect(v6.unixSocketPath == nil)

        let socket = Endpoint.unixSocket(path: "/run/d.sock")
        #expect(socket.host == nil)
        #expect(socket.port == nil)
        #expect(socket.authority == nil)
        #expect(!socket.usesTLS)
    }

    @Test("only loopback hosts and Unix sockets are local", arguments: [
        ("localhost", true), ("LOCALHOST", true), ("127.0.0.1", true), ("127.8.9.10", true),
        ("::1", true), ("0:0:0:0:0:0:0:1", true),
        ("0.0.0.0", false), ("10.0.0.1", false), ("::", false), ("directory.example.org", false),
        ("128.0.0.1", false), ("localhost.example.org", false),
    ])
    func locality(host: String, isLocal: Bool) {
        #expect(Endpoint.plaintext(host: host).isLocal == isLocal)
        #expect(Endpoint.unixSocket(path: "/tmp/x.sock").isLocal)
    }
}
