import DeputyServer
import Foundation
import Testing

@Suite("Listeners")
struct ListenerTests {
    @Test("the plaintext Unix socket speaks the protocol")
    func unixSocket() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await TestServer.launch(plainSocket: path)
        let client = try await LineClient.connect(unixSocket: path)
        #expect(client.greeting == "OK deputyd \(DeputyVersion.current) ready")
        #expect(try await client.send("BIND admin@example.test \"\(TestServer.adminPassword)\"") == ["OK bound as admin@example.test"])
        #expect(try await client.send("QUERY SENDAS admin@example.test admin@example.test") == ["* allowed=yes via=own", "OK"])
        try await server.stop()
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test("plaintext is refused on anything but loopback", arguments: ["0.0.0.0:7637", "10.1.2.3:7637", "[::]:7637", "example.org:7637"])
    func plaintextNeedsLoopback(_ address: String) throws {
        var configuration = ServerConfiguration()
        configuration.plainListen = ListenAddress(hostAndPort: address)
        #expect(configuration.plainListen != nil)
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test("loopback addresses are recognised", arguments: ["127.0.0.1:1", "127.5.6.7:1", "[::1]:1", "localhost:1"])
    func loopback(_ address: String) throws {
        var configuration = ServerConfiguration()
        configuration.plainListen = ListenAddress(hostAndPort: address)
        try configuration.validate()
    }

    @Test("listen addresses parse, and bad ones don't", arguments: [
        ("127.0.0.1:7636", "127.0.0.1:7636"), ("[::1]:99", "[::1]:99"), ("host.example:1", "host.example:1"),
        ("nocolon", nil), ("host:", nil), ("host:99999", nil), ("::1:5", nil), ("[::1]5", nil), (":5", nil),
    ] as [(String, String?)])
    func parsing(_ text: String, _ expected: String?) {
        #expect(ListenAddress(hostAndPort: text)?.description == expected)
    }
}
