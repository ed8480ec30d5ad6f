import DeputyCore
import DeputyServer
import Foundation
import Logging

/// What `deputyd` does on an empty data directory: create the `example` organisation so
/// that the daemon works at once, with its super administrator's password in a 0600 file.
enum FirstStart {
    static let organization = "example"
    static let domain = "example.test"
    static let superAdministrator = "admin@example.test"

    static func directory(dataDirectory: String, passwords: PasswordService, logger: Logger) async throws -> Directory {
        let password = randomPassword()
        var directory = Directory()
        let command = Command.createOrganization(NewOrganization(
            name: organization, domain: DomainName(domain)!, superAdministrator: EmailAddress(superAdministrator)!,
            superAdministratorName: "Administrator", passwordHash: try await passwords.hash(password)
        ))
        if case .failure(let error) = directory.apply(command, context: CommandContext(actor: .system, time: Date())) {
            throw ConfigurationError("could not create the organisation: \(error)")
        }
        let file = (dataDirectory as NSString).appendingPathComponent(DataFiles.initialPassword)
        try DataFiles.writeSecret(password + "\n", to: file)
        logger.notice("created the organisation \(organization); the super administrator's password is in the file named", metadata: [
            "login": "\(superAdministrator)", "file": "\(file)",
        ])
        return directory
    }

    /// 20 characters from an alphabet without look-alikes: about 115 bits.
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
