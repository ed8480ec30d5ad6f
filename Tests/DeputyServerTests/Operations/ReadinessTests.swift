import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging
import Prometheus
import Testing

/// /readyz over real HTTP: not ready before recovery or after the store's storage failed.
@Suite("Readiness")
struct ReadinessTests {
    private static let quiet = Logger(label: "deputy.tests.readiness") { _ in SwiftLogNoOpLogHandler() }

    @Test("Not ready while recovering, ready once recovered and listening, not ready after an injected storage failure")
    func flipsOnStorageFailure() async throws {
        let readiness = ServiceReadiness()
        let server = try await HealthServer(
            address: .tcp(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(), readiness: readiness, logger: Self.quiet
        )
        let serving = Task { await server.run() }
        defer { serving.cancel() }

        let recovering = try await HealthProbe.get("/readyz", from: server.address)
        #expect(recovering.status == 503 && recovering.body == "not ready: recovering the directory\n")
        #expect(try await HealthProbe.get("/livez", from: server.address).status == 200)

        let disk = SimulatedFileSystem()
        let store = try await Store.open(path: "/data", fileSystem: disk, logger: Self.quiet)
        readiness.watchStorage { await store.isFailed ? "the journal could not be written" : nil }
        #expect(try await HealthProbe.get("/readyz", from: server.address).body == "not ready: starting the listeners\n")
        readiness.markListening()
        let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("correct horse")
        let organization = Command.createOrganization(NewOrganization(
            name: "Acme", domain: DomainName("acme.test")!, superAdministrator: EmailAddress("boss@acme.test")!,
            superAdministratorName: "The Boss", passwordHash: hash
        ))
        let created = try await store.commit(organization, context: CommandContext(actor: .system, time: Date()))
        if case .failure(let error) = created.result { Issue.record("\(error)") }
        let ready = try await HealthProbe.get("/readyz", from: server.address)
        #expect(ready.status == 200 && ready.body == "ready\n")

        disk.failNextSync(of: "/data/journal.log")
        let user = Command.addUser(NewUser(address: EmailAddress("u@acme.test")!, displayName: "U", passwordHash: hash))
        await #expect(throws: (any Error).self) { try await store.commit(user, context: CommandContext(actor: .system, time: Date())).result.get() }
        let failed = try await HealthProbe.get("/readyz", from: server.address)
        #expect(failed.status == 503)
        #expect(failed.body == "not ready: storage failed: the journal could not be written\n")
        #expect(try await HealthProbe.get("/livez", from: server.address).status == 200)
    }

    @Test("Not ready once a graceful shutdown begins, while the connections finish")
    func notReadyWhileStopping() async throws {
        let readiness = ServiceReadiness()
        let server = try await HealthServer(
            address: .tcp(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(), readiness: readiness, logger: Self.quiet
        )
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        readiness.watchStorage { nil }
        readiness.markListening()
        #expect(try await HealthProbe.get("/readyz", from: server.address).status == 200)
        readiness.markStopping()
        let stopping = try await HealthProbe.get("/readyz", from: server.address)
        #expect(stopping.status == 503 && stopping.body == "not ready: shutting down\n")
        #expect(try await HealthProbe.get("/livez", from: server.address).status == 200)
    }
}
