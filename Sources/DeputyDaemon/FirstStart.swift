import DeputyCore
import DeputyServer
import DeputyStore
import Foundation
import Logging

/// Creating the organisation: by `deputyd init`, or on the first start of an empty data
/// directory, where `deputyd` creates `example` so the daemon works at once, with its super
/// administrator's password in a 0600 file.
public enum FirstStart {
    public static let organization = "example"
    public static let domain = "example.test"
    public static let superAdministrator = "admin@example.test"

    /// Creates the organisation through the store; returns the password when it generated one.
    @discardableResult
    public static func createOrganization(
        in store: Store, name: String, domain: DomainName, superAdministrator: EmailAddress, password: String?,
        dataDirectory: String, passwords: PasswordService, time: Date = Date(), logger: Logger
    ) async throws -> String? {
        let chosen = password ?? randomPassword()
        let command = Command.createOrganization(NewOrganization(
            name: name, domain: domain, superAdministrator: superAdministrator,
            superAdministratorName: "Administrator", passwordHash: try await passwords.hash(chosen)
        ))
        let file = (dataDirectory as NSString).appendingPathComponent(DataFiles.initialPassword)
        // A generated password is on disk before the organisation is: the other way round,
        // a failed write would leave an organisation whose password nobody knows, and the
        // next start, finding the organisation, would generate none.
        if password == nil { try DataFiles.writeSecret(chosen + "\n", to: file) }
        if case .failure(let error) = try await store.commit(command, context: CommandContext(actor: .system, time: time)).result {
            if password == nil { try? FileManager.default.removeItem(atPath: file) }
            throw ConfigurationError("could not create the organisation: \(error.message)")
        }
        guard password == nil else {
            logger.notice("created the organisation \(name) with the configured password", metadata: ["login": "\(superAdministrator)"])
            return nil
        }
        logger.notice("created the organisation \(name); the password of its super administrator, \(superAdministrator), is in \(file)", metadata: [
            "login": "\(superAdministrator)", "file": "\(file)",
        ])
        return chosen
    }

    /// 20 characters from an alphabet without look-alikes: about 115 bits.
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
