import DeputyCore
import Foundation
import Testing

/// A reader keeps the version it read until another is published, then takes that one.
@Suite("Directory reader")
struct DirectoryReaderTests {
    @Test("the same version until a publication, then the published one")
    func keepsTheVersionUntilAPublication() {
        var directory = Directory()
        let live = LiveDirectory(directory)
        var reader = DirectoryReader(live)
        let first = reader.current()
        #expect(reader.current() === first, "nothing published: the version read before")
        #expect(first === live.version)

        directory.apply(.createOrganization(NewOrganization(
            name: "Acme", domain: DomainName("acme.test")!, superAdministrator: EmailAddress("boss@acme.test")!,
            superAdministratorName: "Boss", passwordHash: PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("x")
        )), context: CommandContext(actor: .system, time: .now))
        live.publish(directory)
        let second = reader.current()
        #expect(second !== first, "a version was published: the reader takes it")
        #expect(second === live.version)
        #expect(second.directory.revision == directory.revision)
        #expect(reader.current() === second)
    }
}
