import DeputyClient
import Foundation

/// A condition that did not become true in time.
struct ConditionTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Waits until `condition` holds, checking every few milliseconds, for at most `timeout`.
func waitUntil(
    _ description: String,
    timeout: Duration = .seconds(10),
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        guard clock.now < deadline else {
            throw ConditionTimeout(description: "timed out waiting until \(description)")
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// A fresh directory under the system's temporary directory, removed by `body`'s end.
func withTemporaryDirectory<Value>(_ body: (URL) async throws -> Value) async throws -> Value {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("deputy-client-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// The error thrown by `body`, as a ``DeputyClientError``, or `nil` if it threw something else
/// or nothing.
func clientError(_ body: () async throws -> Void) async -> DeputyClientError? {
    do {
        try await body()
        return nil
    } catch let error as DeputyClientError {
        return error
    } catch {
        return nil
    }
}

/// A configuration for tests: short timeouts so that a hang fails quickly.
func testConfiguration(trust: DeputyTrust = .systemDefault) -> DeputyClientConfiguration {
    DeputyClientConfiguration(trust: trust, connectTimeout: .seconds(10), requestTimeout: .seconds(20))
}
