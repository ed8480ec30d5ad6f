import DeputyCore
@testable import DeputyStore
import Foundation
import Logging
import Synchronization
import Testing

/// Commands, contexts and stores for the store's tests.
///
/// The organisation is acme.test with `boss` as super administrator; users are added by
/// name with unique addresses, so a test can tell from the directory which commits took
/// effect. Times carry fractions of a second, so that every round trip also checks that
/// timestamps come back exactly.
enum StoreFixture {
    static let dataPath = "/data"
    static let start = Date(timeIntervalSince1970: 1_800_000_000.123_456_7)
    /// A cheap hasher: tests need valid hashes, not slow ones.
    static let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("correct horse")

    /// A logger that drops everything: recovery warnings are checked through the report.
    static let quiet = Logger(label: "deputy.store.tests") { _ in SwiftLogNoOpLogHandler() }

    static var journalPath: String { dataPath + "/journal.log" }
    static var snapshotPath: String { dataPath + "/snapshot.json" }

    static func address(_ name: String) -> EmailAddress {
        EmailAddress("\(name)@acme.test")!
    }

    static var createOrganization: Command {
        .createOrganization(NewOrganization(
            name: "Acme", domain: DomainName("acme.test")!, superAdministrator: address("boss"),
            superAdministratorName: "The Boss", passwordHash: hash
        ))
    }

    static func addUser(_ name: String) -> Command {
        .addUser(NewUser(address: address(name), displayName: "User \(name)", passwordHash: hash))
    }

    /// The system acting at `start` plus `step` milliseconds and a bit.
    static func context(_ step: Int = 0) -> CommandContext {
        CommandContext(actor: .system, time: start.addingTimeInterval(Double(step) * 0.001_3))
    }

    /// Opens a store on `fileSystem` at ``dataPath`` with a fixed clock.
    static func open(
        _ fileSystem: any StorageFileSystem, path: String = dataPath,
        configuration: StoreConfiguration = StoreConfiguration(now: { start })
    ) async throws -> Store {
        try await Store.open(path: path, fileSystem: fileSystem, configuration: configuration, logger: quiet)
    }

    /// What the end of the store's process does to its data directory's lock: lets go of
    /// it, leaving the store's files as they are. For the tests that reopen a data
    /// directory, as after a crash, while the first store is still in memory.
    static func abandon(_ store: Store) {
        store.lock.release()
    }

    /// Commits `command` and expects the directory to apply it.
    @discardableResult
    static func commitApplied(_ store: Store, _ command: Command, step: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws -> CommitOutcome {
        let outcome = try await store.commit(command, context: context(step))
        if case .failure(let error) = outcome.result {
            Issue.record("expected \(command) to apply, got \(error)", sourceLocation: sourceLocation)
        }
        return outcome
    }

    /// A store with the organisation and `users` users named `u0`, `u1`, …
    static func populated(_ fileSystem: any StorageFileSystem, users: Int) async throws -> Store {
        let store = try await open(fileSystem)
        try await commitApplied(store, createOrganization)
        for index in 0..<users {
            try await commitApplied(store, addUser("u\(index)"), step: index + 1)
        }
        return store
    }

    /// Whether `directory` has a user called `name`.
    static func hasUser(_ name: String, in directory: Directory) -> Bool {
        directory.user(at: address(name)) != nil
    }

    /// Waits, without sleeping, until `condition` holds; records an issue and returns if it
    /// has not held within `limit`, so that a regression fails the test instead of hanging it.
    static func waitUntil(
        limit: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
    ) async {
        let deadline = ContinuousClock.now + limit
        while await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the awaited condition did not hold within \(limit)", sourceLocation: sourceLocation)
                return
            }
            await Task.yield()
        }
    }
}

/// Names collected from concurrent tasks.
final class NameLog: Sendable {
    private let names = Mutex<[String]>([])

    func append(_ name: String) {
        names.withLock { $0.append(name) }
    }

    var all: [String] {
        names.withLock { $0 }
    }
}
