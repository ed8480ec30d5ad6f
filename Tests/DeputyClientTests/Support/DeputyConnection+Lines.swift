import DeputyClient
import DeputyProtocol

extension DeputyConnection {
    /// Sends a line of any verb, as the scripted servers of these tests understand them
    /// (`ECHO`, `HOLD`, `BIG`): the protocol's own requests are typed.
    func sendLine(_ verb: String, _ positionals: [String] = [], named: [(String, String)] = []) async throws -> Reply {
        guard let line = RequestLine(verb: verb, arguments: positionals.map(RequestLine.Argument.positional) + named.map { .named(key: $0.0, value: $0.1) }) else {
            throw InvalidLine()
        }
        return try await send(line)
    }
}

/// A line the test built wrong.
struct InvalidLine: Error {}
